#!/usr/bin/env node
/** `npm create switchboard@latest my-agent` runs this (the package's bin). */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2), process.env);
