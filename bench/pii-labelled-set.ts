/**
 * A labelled set for PII detection, built from @faker-js/faker with a fixed
 * seed: support-chat sentences with known entity spans (email, phone, card,
 * IBAN, SSN, IP) and look-alike distractors that must *not* be detected
 * (order and tracking numbers, Luhn-invalid card-like numbers, dates, times,
 * prices, ZIP codes, versions, reference codes).
 *
 * Phones: US numbers in national, human and E.164 styles, plus international
 * (`+CC`) numbers from GB, DE and FR locales (a national number of another
 * country is only detectable with that region configured, so it is left out).
 */
import { Faker, base, de, en, en_GB, en_US, fr } from "@faker-js/faker";
import type { PiiEntityType } from "../src/guardrails/index.js";

export interface LabelledSpan {
  type: PiiEntityType;
  start: number;
  end: number;
}

export interface LabelledSentence {
  text: string;
  entities: LabelledSpan[];
}

type Slot = PiiEntityType | "order" | "tracking" | "badcard" | "date" | "time" | "price" | "zip" | "version" | "ref" | "name" | "product";

/** Templates in support-chat style; `{slot}` marks where a generated value goes. */
const TEMPLATES: string[] = [
  "Hi, my email is {email} and my order {order} still hasn't arrived.",
  "Please call me back on {phone}, I've been waiting since {date}.",
  "I was charged twice on card {credit_card} for order {order}, total {price}.",
  "Can you refund to my IBAN {iban}? The amount was {price}.",
  "My SSN is {ssn}, do you need it for the credit check?",
  "The login came from {ip} at {time}, that wasn't me!",
  "hello i want to change my email from {email} to {email}",
  "This is {name}, phone {phone}, about tracking number {tracking}.",
  "I can't log in. Account email: {email}. Reference {ref}.",
  "My new number is {phone} and my address zip is {zip}.",
  "Pay the invoice {ref} by card {credit_card} please, expiry next year.",
  "wrong card number? I typed {badcard} but it says invalid",
  "Transfer the refund of {price} to {iban} (account holder {name}).",
  "Why did order {order} ship to {zip} on {date}?",
  "I'm on app version {version} and it crashes at {time}.",
  "Contact me at {email} or {phone}, whichever is quicker.",
  "Our office IP is {ip}; please whitelist it for the {product}.",
  "Customer {name} ({email}) disputes charge {ref} on {credit_card}.",
  "Tax form: SSN {ssn}, IBAN {iban}, phone {phone}.",
  "Order #{order} with tracking {tracking} never came, call {phone}",
  "I paid {price} with {credit_card} on {date} at {time}.",
  "my ip address is {ip} and im using version {version}",
  "Hey, can you update my number to {phone}? Thanks, {name}",
  "Send the {product} receipt to {email}, order {order}.",
  "I don't remember if my card ends in {order}, the full one is {credit_card}",
  "Direct debit from {iban} failed on {date}, reference {ref}.",
  "Security team: suspicious requests from {ip} and {ip} since {time}.",
  "Please don't store my SSN {ssn} anywhere.",
  "{name} here. Reach me at {phone} or {email} about the {product}.",
  "Card {badcard} was declined and so was {credit_card}.",
];

export interface LabelledSetOptions {
  /** Number of sentences. Default 3000. */
  size?: number;
  /** Faker seed. Default 20261127. */
  seed?: number;
}

/**
 * @example
 * ```ts
 * const set = buildLabelledSet({ size: 500 });
 * set[0]; // { text: "Hi, my email is Ann.Lee@hotmail.com and my order 8812...", entities: [{ type: "email", start: 16, end: 35 }] }
 * ```
 */
export function buildLabelledSet(options: LabelledSetOptions = {}): LabelledSentence[] {
  const size = options.size ?? 3000;
  const seed = options.seed ?? 20261127;
  const us = new Faker({ locale: [en_US, en, base], seed });
  const others = [
    new Faker({ locale: [en_GB, en, base], seed: seed + 1 }),
    new Faker({ locale: [de, en, base], seed: seed + 2 }),
    new Faker({ locale: [fr, en, base], seed: seed + 3 }),
  ];
  const issuers = ["visa", "mastercard", "american_express", "discover", "jcb", "diners_club", "maestro"];
  const ibanCountries = ["DE", "GB", "FR", "NL", "ES", "IT", "BE", "AT", "CH", "PL", "SE", "IE"];

  const value = (slot: Slot): string => {
    switch (slot) {
      case "email":
        return us.helpers.arrayElement([
          () => us.internet.email(),
          () => us.internet.email({ firstName: us.person.firstName(), lastName: us.person.lastName(), provider: us.internet.domainName() }),
          () => us.internet.exampleEmail().toLowerCase(),
        ])();
      case "phone": {
        if (us.number.int(3) === 0) return us.helpers.arrayElement(others).phone.number({ style: "international" });
        return us.phone.number({ style: us.helpers.arrayElement(["national", "human", "international"] as const) });
      }
      case "credit_card":
        return us.finance.creditCardNumber(us.helpers.arrayElement(issuers));
      case "iban":
        return us.finance.iban({ formatted: us.datatype.boolean(), countryCode: us.helpers.arrayElement(ibanCountries) });
      case "ssn":
        return `${us.number.int({ min: 1, max: 665 }).toString().padStart(3, "0")}-${us.number.int({ min: 1, max: 99 }).toString().padStart(2, "0")}-${us.number.int({ min: 1, max: 9999 }).toString().padStart(4, "0")}`;
      case "ip":
        return us.datatype.boolean({ probability: 0.75 }) ? us.internet.ipv4() : us.internet.ipv6();
      case "order":
        return us.string.numeric({ length: us.number.int({ min: 5, max: 16 }), allowLeadingZeros: true });
      case "tracking":
        return `${us.string.alpha({ length: 2, casing: "upper" })}${us.string.numeric(9)}${us.helpers.arrayElement(["US", "GB", "DE"])}`;
      case "badcard": {
        // A card-shaped number whose Luhn checksum fails.
        const good = us.finance.creditCardNumber("visa").replace(/\D/g, "");
        const last = Number(good.at(-1));
        return good.slice(0, -1) + String((last + 1 + us.number.int(7)) % 10);
      }
      case "date":
        return us.helpers.arrayElement([
          () => us.date.recent({ days: 60 }).toISOString().slice(0, 10),
          () => us.date.recent({ days: 60 }).toLocaleDateString("en-US"),
          () => us.date.month() + " " + String(us.number.int({ min: 1, max: 28 })),
        ])();
      case "time":
        return `${us.number.int({ min: 0, max: 23 }).toString().padStart(2, "0")}:${us.number.int({ min: 0, max: 59 }).toString().padStart(2, "0")}`;
      case "price":
        return `$${us.commerce.price()}`;
      case "zip":
        return us.location.zipCode();
      case "version":
        return us.system.semver();
      case "ref":
        return us.string.alphanumeric({ length: 10, casing: "upper" });
      case "name":
        return us.person.fullName();
      case "product":
        return us.commerce.productName();
    }
  };

  const out: LabelledSentence[] = [];
  for (let i = 0; i < size; i++) {
    const template = TEMPLATES[i % TEMPLATES.length]!;
    let text = "";
    const entities: LabelledSpan[] = [];
    let at = 0;
    for (const m of template.matchAll(/\{([a-z_]+)\}/g)) {
      text += template.slice(at, m.index);
      const slot = m[1] as Slot;
      const v = value(slot);
      if (isEntity(slot)) entities.push({ type: slot, start: text.length, end: text.length + v.length });
      text += v;
      at = m.index + m[0].length;
    }
    text += template.slice(at);
    out.push({ text, entities });
  }
  return out;
}

function isEntity(slot: Slot): slot is PiiEntityType {
  return slot === "email" || slot === "phone" || slot === "credit_card" || slot === "iban" || slot === "ssn" || slot === "ip";
}

export interface TypeScore {
  /** Gold values of this type. */
  gold: number;
  /** Detections of this type. */
  predicted: number;
  truePositives: number;
  precision: number;
  recall: number;
  /** Gold values with any character left unredacted (by a detection of any type). */
  leaked: number;
}

/**
 * Scores detections against the labels per type. A detection counts as a true
 * positive when it has the gold type and covers at least 80% of the gold span
 * while lying at least half inside it (a phone found without its extension, or
 * an IBAN with a trailing space, still counts).
 */
export function scoreDetections(
  set: LabelledSentence[],
  detect: (text: string) => LabelledSpan[],
  types: readonly PiiEntityType[],
): Record<string, TypeScore> {
  const scores: Record<string, TypeScore> = {};
  for (const t of types) scores[t] = { gold: 0, predicted: 0, truePositives: 0, precision: 0, recall: 0, leaked: 0 };
  for (const s of set) {
    const found = detect(s.text);
    const usedGold = new Set<LabelledSpan>();
    for (const f of found) {
      const score = scores[f.type];
      if (!score) continue;
      score.predicted++;
      const hit = s.entities.find((g) => !usedGold.has(g) && g.type === f.type && matches(g, f));
      if (hit) {
        usedGold.add(hit);
        score.truePositives++;
      }
    }
    for (const g of s.entities) {
      const score = scores[g.type];
      if (!score) continue;
      score.gold++;
      let covered = 0;
      for (const f of found) covered += Math.max(0, Math.min(f.end, g.end) - Math.max(f.start, g.start));
      if (covered < g.end - g.start) score.leaked++;
    }
  }
  for (const score of Object.values(scores)) {
    score.precision = score.predicted === 0 ? 1 : score.truePositives / score.predicted;
    score.recall = score.gold === 0 ? 1 : score.truePositives / score.gold;
  }
  return scores;
}

function matches(gold: LabelledSpan, found: LabelledSpan): boolean {
  const overlap = Math.max(0, Math.min(gold.end, found.end) - Math.max(gold.start, found.start));
  return overlap >= 0.8 * (gold.end - gold.start) && overlap >= 0.5 * (found.end - found.start);
}
