// --shard=i/N as the command line gives it: which part of how many (checked before discovery;
// scheduling/sharding.ts plans which classes each part runs).
import { ConfigError } from "../core/errors.ts";

export interface ShardSpec {
  /** 1-based. */
  index: number;
  total: number;
}

export function parseShard(text: string): ShardSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const total = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(total) || total < 1 || index < 1 || index > total) {
    throw new ConfigError(`--shard must be i/N with 1 <= i <= N (e.g. 2/4), not ${JSON.stringify(text)}`, SHARD_HINT);
  }
  if (total > MAX_SHARDS) {
    throw new ConfigError(`--shard ${index}/${total} asks for more than ${MAX_SHARDS} shards`, SHARD_HINT);
  }
  return { index, total };
}

const SHARD_HINT = "pass --shard i/N on each of N CI jobs, e.g. --shard 1/4 to --shard 4/4";
/** More CI jobs than any matrix runs (GitHub Actions allows 256): refused before discovery. */
export const MAX_SHARDS = 1024;
