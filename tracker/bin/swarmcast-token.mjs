#!/usr/bin/env node
import "../dist/token-cli.js";
