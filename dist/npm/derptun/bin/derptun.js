#!/usr/bin/env node
'use strict';
require('derphole/lib/run.js').run('derptun');
