/**
 * The chat page's Markdown renderer (src/ui/assets/markdown.js over the
 * vendored markdown-it), run in Node on the same module the browser loads:
 * what model answers contain renders as structure, and nothing a model can
 * write becomes markup, a script or a request.
 */
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/ui/assets/markdown.js";

describe("chat Markdown", () => {
  it("renders GFM tables", () => {
    const html = renderMarkdown("| plan | price |\n|---|--:|\n| Basic | $5 |\n| Pro | **$20** |\n");
    expect(html).toContain("<table>");
    expect(html).toContain("<th>plan</th>");
    expect(html).toMatch(/<td style="text-align:right"><strong>\$20<\/strong><\/td>/);
  });

  it("renders nested lists, ordered lists with a start, and block quotes", () => {
    const html = renderMarkdown("1. Open Settings\n   - Security\n     - Password\n2. Save\n\n3) third\n\n> quoted\n");
    expect(html).toMatch(/<ol>\s*<li>Open Settings\s*<ul>\s*<li>Security\s*<ul>\s*<li>Password<\/li>/);
    expect(html).toContain('<ol start="3">');
    expect(html).toMatch(/<blockquote>\s*<p>quoted<\/p>\s*<\/blockquote>/);
  });

  it("renders fenced code verbatim, escaped, with its language; an unclosed fence (a stream in progress) is code so far", () => {
    expect(renderMarkdown("```ts\nconst a = 1 < 2 && **b**;\n```")).toBe('<pre><code class="language-ts">const a = 1 &lt; 2 &amp;&amp; **b**;\n</code></pre>\n');
    expect(renderMarkdown("Here:\n```py\nprint('<hi>')")).toContain("<code class=\"language-py\">print('&lt;hi&gt;')");
    expect(renderMarkdown("use `<b>` here")).toBe("<p>use <code>&lt;b&gt;</code> here</p>\n");
  });

  it("shows raw HTML as text", () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\nHi <img src=x onerror="alert(1)"> <b>bold</b>');
    expect(html).not.toMatch(/<(script|img|b)[\s>]/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("links only http(s) and mailto, in a new tab without an opener; other schemes stay text", () => {
    const ok = renderMarkdown("[docs](https://example.com/a?b=1) and https://example.org and [mail](mailto:help@example.com)");
    expect(ok).toContain('<a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(ok).toContain('<a href="https://example.org" target="_blank" rel="noopener noreferrer">https://example.org</a>');
    expect(ok).toContain('href="mailto:help@example.com"');
    for (const url of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "/admin", "//evil.example/x", "#top"]) {
      const html = renderMarkdown(`[click](${url})`);
      expect(html, url).not.toContain("<a ");
      expect(html, url).toContain("[click]");
    }
    expect(renderMarkdown('[x](https://a.example/"onmouseover="alert(1))')).not.toMatch(/"\s*onmouseover=/);
  });

  it("fetches nothing: images stay text", () => {
    const html = renderMarkdown("![pixel](https://tracker.example/p.png)");
    expect(html).not.toContain("<img");
  });

  it("starts headings at level 3 inside the page, and keeps line breaks of a paragraph", () => {
    expect(renderMarkdown("# Title\n## Sub\n###### Deep")).toBe("<h3>Title</h3>\n<h4>Sub</h4>\n<h6>Deep</h6>\n");
    expect(renderMarkdown("line one\nline two")).toBe("<p>line one<br>\nline two</p>\n");
  });
});
