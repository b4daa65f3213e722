/**
 * Stand-in for the Synthetics runtime's `Synthetics` module, for running the canary offline
 * (`infra/canary/run-local.cjs`). Only `executeStep` is used: it runs the step, records its
 * name and outcome, and rethrows a failure, which is what fails a real canary run. Nothing of
 * Synthetics' reporting, screenshots, HAR files or metrics is reproduced.
 */
'use strict';

const steps = [];

async function executeStep(name, fn) {
  try {
    const result = await fn();
    steps.push({ name, passed: true });
    return result;
  } catch (error) {
    steps.push({ name, passed: false, error: String(error && error.message ? error.message : error) });
    throw error;
  }
}

module.exports = { executeStep, steps };
