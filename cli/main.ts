#!/usr/bin/env node
import { runCli } from './run';

runCli(process.argv.slice(2), { out: (text) => console.log(text), err: (text) => console.error(text) }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
