#!/usr/bin/env node
import { buildCli } from './cli';
import { processIo } from './io';

// The environment is read once, here, and handed on.
void buildCli(processIo(), process.env)
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
