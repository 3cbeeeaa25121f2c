// Parse an AsyncAPI document with the official parser (and its default rules) and print, as one
// JSON object, the problems found by severity and what the document holds: channels with their
// addresses and message names, operations, and every message's name.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(process.argv[2], "utf8"));
const severities = ["error", "warning", "info", "hint"];
const report = {
  diagnostics: diagnostics.map((d) => ({ severity: severities[d.severity], code: d.code, message: d.message,
                                         path: d.path.join("/") })),
  valid: document !== undefined,
};
if (document) {
  report.version = document.version();
  report.channels = Object.fromEntries(document.channels().all().map((c) => [c.id(), {
    address: c.address(), messages: c.messages().all().map((m) => m.name()),
    amqp: c.bindings().get("amqp")?.value() ?? null,
  }]));
  report.operations = document.operations().all().map((o) => ({ id: o.id(), action: o.action() }));
  report.messages = document.allMessages().all().map((m) => m.name());
  report.securitySchemes = document.components().securitySchemes().all().map((s) => s.type());
  report.servers = document.servers().all().map((s) => s.protocol());
}
console.log(JSON.stringify(report));
process.exit(document ? 0 : 1);
