// MySQL and MariaDB object definitions as the engine reads, replays and compares them: names
// quoted by the driver, definers left out (a copy's objects belong to the engine's own user),
// and the session modes a copy or a repair writes rows and makes objects under.
import mysql from "mysql2/promise";

export const id = (name: string): string => mysql.escapeId(name, true);

/** The definer of a view or program is dropped, so it becomes the engine's own user. */
export function withoutDefiner(create: string): string {
  const part = "(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\\w.%-]+)";
  return create.replace(new RegExp(`\\s+DEFINER\\s*=\\s*(?:CURRENT_USER(?:\\(\\))?|${part}@${part})`, "i"), "");
}

/** A table's definition without its AUTO_INCREMENT counter, which tests move. */
export const withoutCounter = (create: string): string => create.replace(/\s+AUTO_INCREMENT=\d+/, "");

/** Session modes while copying: zero ids stay zero (as mysqldump does), no silent engine swap. */
export const DDL_MODE = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";
export const COPY_MODE = `${DDL_MODE},STRICT_ALL_TABLES`;
