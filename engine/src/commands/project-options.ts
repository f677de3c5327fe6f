// How every subcommand finds the Django project: the options and the environment they imply.
import type { Command } from "commander";

export interface ProjectFlags {
  settings?: string;
  pythonpath?: string;
  /** Has a default (python3, or DJANGO_CONCURRENT_TEST_PYTHON) once commander parsed it. */
  python?: string;
}

export function addProjectOptions(command: Command): Command {
  return command
    .option("--settings <module>", "settings module (sets DJANGO_SETTINGS_MODULE)")
    .option("--pythonpath <dir>", "a directory to add to the Python path")
    .option(
      "--python <exe>",
      "Python interpreter with Django installed",
      process.env.DJANGO_CONCURRENT_TEST_PYTHON ?? "python3",
    );
}

/** The environment the Python side runs in, given --settings and --pythonpath. */
export function projectEnv(flags: ProjectFlags): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (flags.settings) env.DJANGO_SETTINGS_MODULE = flags.settings;
  if (flags.pythonpath) env.PYTHONPATH = [flags.pythonpath, env.PYTHONPATH].filter(Boolean).join(":");
  return env;
}
