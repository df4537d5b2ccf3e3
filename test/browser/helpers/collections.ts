/** The collections API from a test's side: seed it. */

export interface SeedDocument {
  id: string;
  title: string;
  source: string;
  text: string;
}

/** Upserts documents the way the console does (one JSON array); throws with the body on failure. */
export async function seedCollection(baseUrl: string, collection: string, documents: SeedDocument[]): Promise<void> {
  const res = await fetch(`${baseUrl}/v1/collections/${encodeURIComponent(collection)}/documents`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(documents),
  });
  if (!res.ok) throw new Error(`seeding ${collection} failed: ${res.status} ${await res.text()}`);
}

/** A small support knowledge base for citation tests. */
export const SUPPORT_DOCS: SeedDocument[] = [
  {
    id: "password-reset.md",
    title: "Resetting your password",
    source: "https://help.example.com/password-reset",
    text: "To reset your password, open Settings, choose Security and click Reset password. A reset link is emailed to you and expires after 30 minutes.",
  },
  {
    id: "billing.md",
    title: "Billing and invoices",
    source: "https://help.example.com/billing",
    text: "Invoices are issued on the first day of each month. You can download past invoices from the Billing page as PDF files.",
  },
  {
    id: "two-factor.md",
    title: "Two-factor authentication",
    source: "https://help.example.com/2fa",
    text: "Enable two-factor authentication under Settings, Security. Keep your recovery codes safe: they let you sign in if you lose your phone.",
  },
];
