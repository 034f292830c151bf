#!/usr/bin/env node
import { main } from "../../dist/publish/cli.js";

main();
