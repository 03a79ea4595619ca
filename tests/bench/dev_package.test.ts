/**
 * A benchmark that needs a development dependency loads it through devPackage(): installed, it
 * gets the module; missing, an error that names the package, who needs it and how to install it;
 * any other failure of the import passes through as it was.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { devPackage, DevPackageMissingError } from "../../bench/_dev_package.ts";

const test = suite("dev package");

test("devPackage() loads an installed package", async () => {
  const uvu = await devPackage("uvu", () => import("uvu"), "this test");
  assert.type(uvu.suite, "function");
});

test("devPackage() names a missing package, who needs it and how to install it", async () => {
  const name = "troupe-no-such-package";
  try {
    await devPackage(name, () => import(name), "bench nothing (its baseline)");
    assert.unreachable("a missing package loaded");
  } catch (err) {
    assert.instance(err, DevPackageMissingError);
    assert.match((err as Error).message, `bench nothing (its baseline) needs ${name}`);
    assert.match((err as Error).message, `npm install --no-save ${name}`);
  }
});

test("devPackage() passes another failure through", async () => {
  const boom = new Error("the module threw while it loaded");
  try {
    await devPackage("uvu", () => Promise.reject(boom), "this test");
    assert.unreachable("no error");
  } catch (err) {
    assert.is(err, boom);
  }
});

test.run();
