/** Stand-in for the Synthetics runtime's `SyntheticsLogger`: lines go to stderr. */
'use strict';

const line = (level) => (message) => process.stderr.write(`${level} ${message}\n`);
module.exports = { info: line('INFO'), warn: line('WARN'), error: line('ERROR'), debug: line('DEBUG') };
