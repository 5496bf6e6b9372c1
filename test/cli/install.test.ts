// Roam as a user installs it: `npm pack` makes a package that works on its
// own once installed (`npm install -g`), with the built core and host inside:
// `roam --version`, and a guest run from outside the checkout, by both names.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { REPO, tempDir } from "../e2e/cluster.js";

const scratch = tempDir("install");
afterAll(() => scratch.remove());

test("npm pack, npm install -g: roam and roam-vm run a guest from anywhere", () => {
  const version = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;
  // The suite has just built dist/ and build/: pack what is there (prepack would build again).
  execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", scratch.path], { cwd: REPO, stdio: "pipe" });
  const tarball = readdirSync(scratch.path).find((f) => f.endsWith(".tgz"))!;
  expect(tarball).toBe(`roam-vm-${version}.tgz`);
  const prefix = join(scratch.path, "prefix");
  execFileSync("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", join(scratch.path, tarball)], { stdio: "pipe" });
  for (const name of ["roam", "roam-vm"]) {
    const bin = join(prefix, "bin", name);
    expect(execFileSync(bin, ["--version"], { cwd: scratch.path }).toString().trim()).toBe(`roam ${version}`);
    const hello = spawnSync(bin, ["run", join(REPO, "guests/bin/process/hello.elf"), "one", "two"], { cwd: scratch.path });
    expect(hello.status, hello.stderr.toString()).toBe(0);
    expect(hello.stdout.toString()).toContain("one");
  }
}, 180_000);
