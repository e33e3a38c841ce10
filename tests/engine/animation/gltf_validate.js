// Run by tests/engine/animation/export_clients.py: node gltf_validate.js VALIDATOR_DIR FILE...
// validates each glTF file with the Khronos glTF validator (npm gltf-validator) and prints one
// JSON array: per file its counts of errors, warnings and infos and the messages.
const fs = require("fs");
const path = require("path");
const validator = require(process.argv[2]);

async function main() {
  const out = [];
  for (const file of process.argv.slice(3)) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
      uri: path.basename(file),
      maxIssues: 200,
      externalResourceFunction: (uri) => Promise.reject(new Error(`external resource ${uri}`)),
    });
    out.push({
      file,
      errors: report.issues.numErrors,
      warnings: report.issues.numWarnings,
      infos: report.issues.numInfos,
      messages: report.issues.messages.map((m) => `${m.severity} ${m.code} ${m.pointer || ""}: ${m.message}`),
    });
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(String(e));
  process.exit(2);
});
