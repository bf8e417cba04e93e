// tests/webhook/sign.mjs — the oracle for GitHub-style signatures: @octokit/webhooks-methods (installed
// by `scripts/deps.sh test` into build/npm/webhook, pinned by tests/webhook/package-lock.json) signs a
// file's text as GitHub does, `sha256=<hex HMAC-SHA256 of the raw body>`, and verifies one.
//
//   SIGN_SECRET=... node tests/webhook/sign.mjs NPM_DIR sign FILE             prints the X-Hub-Signature-256 value
//   SIGN_SECRET=... node tests/webhook/sign.mjs NPM_DIR verify FILE SIGNATURE  prints true or false
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [npmDir, cmd, file, signature] = process.argv.slice(2);
const { sign, verify } = await import(pathToFileURL(join(resolve(npmDir), "node_modules/@octokit/webhooks-methods/dist-node/index.js")).href);
const secret = process.env.SIGN_SECRET;
const payload = readFileSync(file, "utf8");
if (cmd === "sign") console.log(await sign(secret, payload));
else if (cmd === "verify") console.log(String(await verify(secret, payload, signature)));
else { console.error("sign.mjs: sign or verify"); process.exit(2); }
