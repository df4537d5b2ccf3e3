import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { csvDocuments, htmlDocument, jsonlDocuments, loadDirectory, loadFile, markdownDocument, textDocument } from "../../src/rag/index.js";

describe("markdown and text loaders", () => {
  it("reads front matter into title and metadata and strips it from the text", () => {
    const doc = markdownDocument("---\ntitle: Refund policy\nlang: en\ntags: [billing, refunds]\n---\n# Refunds\n\nWithin 30 days.\n", { id: "kb/refunds.md" });
    expect(doc).toEqual({
      id: "kb/refunds.md",
      title: "Refund policy",
      source: "kb/refunds.md",
      metadata: { lang: "en", tags: ["billing", "refunds"] },
      format: "markdown",
      text: "# Refunds\n\nWithin 30 days.\n",
    });
  });

  it("falls back to the first heading, then the file name", () => {
    expect(markdownDocument("Intro\n\n# Shipping times  \n\nText", { id: "a/ship.md" }).title).toBe("Shipping times");
    expect(markdownDocument("No heading here.", { id: "a/notes.md", source: "https://x/notes" })).toMatchObject({ title: "notes", source: "https://x/notes" });
    expect(textDocument("\uFEFFOpening hours 9-17.", { id: "hours.txt" })).toEqual({
      id: "hours.txt",
      title: "hours",
      source: "hours.txt",
      text: "Opening hours 9-17.",
      metadata: {},
      format: "text",
    });
  });
});

describe("HTML loader", () => {
  it("extracts visible text and the title, dropping scripts, styles, nav and link targets", () => {
    const html = `<!doctype html><html><head><title>Shipping &amp; Delivery</title><style>p{color:red}</style>
      <script>alert("x")</script></head><body><nav><a href="/">Home</a></nav>
      <h1>Shipping</h1><p>We ship in <b>2 days</b>. See <a href="https://example.com/track">tracking</a>.</p>
      <ul><li>Express</li><li>Standard</li></ul></body></html>`;
    const doc = htmlDocument(html, { id: "shipping.html" });
    expect(doc.title).toBe("Shipping & Delivery");
    expect(doc.text).toContain("Shipping");
    expect(doc.text).toContain("We ship in 2 days. See tracking.");
    expect(doc.text).toMatch(/Express[\s\S]*Standard/);
    for (const gone of ["alert", "color:red", "https://example.com", "Home"]) expect(doc.text).not.toContain(gone);
  });
});

describe("JSONL loader", () => {
  it("maps default fields", () => {
    const text = '{"id":"a","text":"Alpha","title":"A","source":"s","metadata":{"k":1}}\n\n{"id":2,"text":"Beta"}\n{"id":"c","text":""}\n';
    expect(jsonlDocuments(text)).toEqual([
      { id: "a", text: "Alpha", title: "A", source: "s", metadata: { k: 1 } },
      { id: "2", text: "Beta", metadata: {} },
    ]);
  });

  it("maps custom and nested fields, extra metadata fields and an id prefix", () => {
    const text = '{"sku":"x1","body":{"en":"Fits M5 bolts"},"name":"Bracket","cat":"hardware","meta":{"lang":"en"}}';
    expect(
      jsonlDocuments(text, { idField: "sku", textField: "body.en", titleField: "name", metadataField: "meta", metadataFields: ["cat"], idPrefix: "p:" }),
    ).toEqual([{ id: "p:x1", text: "Fits M5 bolts", title: "Bracket", metadata: { lang: "en", cat: "hardware" } }]);
  });

  it("names the bad line in its 400", () => {
    expect(() => jsonlDocuments('{"id":"a","text":"ok"}\n{oops')).toThrow(/line 2/);
    expect(() => jsonlDocuments('{"text":"no id"}')).toThrow(GatewayError);
  });
});

describe("CSV loader", () => {
  const csv = 'id,question,answer,intent,category\n1,Refund?,"We refund, gladly,\nwithin 30 days.",get_refund,REFUND\n2,Empty,,x,y\n3,Track?,Use the Track button.,track_order,ORDER\n';

  it("maps columns, keeps quoted multi-line fields, skips empty text", () => {
    expect(csvDocuments(csv, { idColumn: "id", textColumn: "answer", titleColumn: "question", metadataColumns: ["intent", "category"] })).toEqual([
      { id: "1", text: "We refund, gladly,\nwithin 30 days.", title: "Refund?", metadata: { intent: "get_refund", category: "REFUND" } },
      { id: "3", text: "Use the Track button.", title: "Track?", metadata: { intent: "track_order", category: "ORDER" } },
    ]);
  });

  it("numbers rows when there is no id column, and rejects unknown columns", () => {
    expect(csvDocuments(csv, { textColumn: "answer" }).map((d) => d.id)).toEqual(["row-1", "row-3"]);
    expect(() => csvDocuments(csv, { textColumn: "body" })).toThrow(/no column 'body'/);
    expect(csvDocuments("a;b\nx;hello\n", { textColumn: "b", delimiter: ";" })[0]?.text).toBe("hello");
  });
});

describe("directory walker", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchyard-loaders-"));
    await mkdir(join(dir, "guides", "deep"), { recursive: true });
    await mkdir(join(dir, ".git"));
    await mkdir(join(dir, "node_modules"));
    await writeFile(join(dir, "guides", "refunds.md"), "# Refunds\n\nWithin 30 days.");
    await writeFile(join(dir, "guides", "deep", "page.html"), "<title>Deep</title><p>Deep page.</p>");
    await writeFile(join(dir, "notes.txt"), "Plain notes.");
    await writeFile(join(dir, "faq.jsonl"), '{"id":"q1","text":"Answer one"}\n{"id":"q2","text":"Answer two"}\n');
    await writeFile(join(dir, "rows.csv"), "text\nRow text\n");
    await writeFile(join(dir, "image.png"), "not really");
    await writeFile(join(dir, ".hidden.md"), "# Hidden");
    await writeFile(join(dir, ".git", "HEAD.md"), "# git");
    await writeFile(join(dir, "node_modules", "x.md"), "# dep");
    await writeFile(join(dir, "empty.md"), "   \n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads supported files with relative-path ids, skipping hidden, node_modules and unknown files", async () => {
    const skipped: string[] = [];
    const docs = await loadDirectory(dir, { onSkip: (p) => skipped.push(p) });
    expect(docs.map((d) => d.id)).toEqual(["faq.jsonl:q1", "faq.jsonl:q2", "guides/deep/page.html", "guides/refunds.md", "notes.txt", "rows.csv:row-1"]);
    expect(docs.find((d) => d.id === "guides/refunds.md")).toMatchObject({ title: "Refunds", source: "guides/refunds.md", format: "markdown" });
    expect(docs.find((d) => d.id === "faq.jsonl:q1")?.source).toBe("faq.jsonl");
    expect(skipped.some((p) => p.endsWith("image.png"))).toBe(true);
  });

  it("loads a single file by extension", async () => {
    expect((await loadFile(join(dir, "guides", "refunds.md")))[0]?.id).toBe("refunds.md");
    expect(await loadFile(join(dir, "faq.jsonl"))).toHaveLength(2);
  });
});
