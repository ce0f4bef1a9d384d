#!/usr/bin/env node
// The `mosaic` command (package.json "bin"): the CLI built by `npm run build` (nest build cli).
'use strict';
require('../../dist/apps/cli/main.js');
