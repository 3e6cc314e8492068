// Stand-in for artillery-engine-playwright (see package.json): this project never runs Artillery's browser engine.
"use strict";
function PlaywrightEngineNotInstalled() {
  throw new Error(
    "Artillery's playwright engine is not installed in this project (bench/artillery/no-playwright-engine replaces it " +
      "so installs never download a browser). Use `engine: ws` scenarios, or install artillery in a separate directory.",
  );
}
module.exports = PlaywrightEngineNotInstalled;
