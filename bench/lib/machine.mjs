// What the numbers were measured on: CPUs, memory, OS, Node and Chromium.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';

export function machine(browserVersion) {
  let nproc = cpus().length;
  try { nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()); } catch { /* keep os.cpus() */ }
  return {
    nproc,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    chromium: browserVersion,
  };
}
