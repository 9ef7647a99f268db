#!/usr/bin/env node
import { cli } from "../dist/cli/main.js";

await cli();
