/**
 * One detector per entity type: a candidate pattern, then a validator where one
 * exists, so that look-alikes (order numbers, dates, versions) are not taken
 * for personal data.
 *
 * - email: an RFC 5321-shaped pattern (dot-atom local part, DNS labels, an alphabetic TLD).
 * - phone: libphonenumber-js (`max` metadata) finds numbers in text and keeps only
 *   numbers valid for their region (a national number needs the configured default region).
 * - credit_card: 13-19 digits with consistent space/dash grouping, a known issuer
 *   prefix (IIN) and the Luhn checksum.
 * - iban: a country code, check digits and the country's BBAN length (ibantools'
 *   registry), validated with the ISO 13616 mod-97 checksum (ibantools).
 * - ssn: US SSNs written `AAA-GG-SSSS` (or with spaces), excluding never-issued
 *   areas (000, 666, 9xx), group 00 and serial 0000.
 * - ip: dotted-quad IPv4 and IPv6 (validated by `node:net`).
 *
 * Libraries tried before writing these (see BENCHMARKS.md): redact-pii 3.4 and
 * openredaction 1.1, both regex-only for these types without checksums.
 */
import { isIPv6 } from "node:net";
import { countrySpecs, validateIBAN, ValidationErrorsIBAN } from "ibantools";
import { findPhoneNumbersInText, type CountryCode } from "libphonenumber-js/max";
import type { PiiEntityType, PiiMatch } from "./types.js";

export interface DetectorOptions {
  /** Region assumed for phone numbers written without `+country`; ISO 3166 alpha-2. Default `US`. */
  defaultRegion?: string;
}

/** Finds the values of one entity type in a text. */
export type EntityDetector = (text: string) => PiiMatch[];

const EMAIL_PATTERN =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9_%+-]|\.(?=[A-Za-z0-9_%+-])){0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

export function detectEmails(text: string): PiiMatch[] {
  return regexMatches(text, EMAIL_PATTERN, "email");
}

/** Words that make a bare run of digits a phone number ("call 4155552671"). */
const PHONE_CONTEXT = /\b(?:phone|call|ring|number|tel|telephone|mobile|cell|text|sms|whatsapp|reach|contact|fax)\b[^\d\n]{0,24}$/i;

export function phoneDetector(options: DetectorOptions = {}): EntityDetector {
  const defaultCountry = (options.defaultRegion ?? "US").toUpperCase() as CountryCode;
  return (text) => {
    // Leniency "POSSIBLE" (`extended`): a number written as a phone number — with a leading +, brackets or
    // separators — is redacted when its length is possible for the region, even if that area code is unassigned.
    // A bare run of digits is too often an order or account number: it must be a valid number for the region
    // *and* follow a phone word.
    const out: PiiMatch[] = [];
    for (const f of findPhoneNumbersInText(text, { defaultCountry, extended: true })) {
      const value = text.slice(f.startsAt, f.endsAt);
      if (/^\d+$/.test(value) && !(f.number.isValid() && PHONE_CONTEXT.test(text.slice(Math.max(0, f.startsAt - 48), f.startsAt)))) continue;
      if (!f.number.isPossible()) continue;
      out.push({ type: "phone", start: f.startsAt, end: f.endsAt, value });
    }
    return out;
  };
}

/** 13-19 digits in groups separated by one space or dash (the same separator throughout), or none. */
const CARD_PATTERN = /(?<![\d+-])\d{4}(?:([ -]?)\d{2,7})(?:\1\d{1,7}){0,4}(?![\d]|-\d)/g;

export function detectCreditCards(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(CARD_PATTERN)) {
    const digits = m[0].replace(/[ -]/g, "");
    if (digits.length < 13 || digits.length > 19) continue;
    if (!hasCardPrefix(digits) || !luhnValid(digits)) continue;
    // An ungrouped run right after "order", "invoice", "#"... is that reference, not a card.
    if (digits === m[0] && NOT_A_CARD_CONTEXT.test(text.slice(Math.max(0, m.index - 24), m.index))) continue;
    out.push({ type: "credit_card", start: m.index, end: m.index + m[0].length, value: m[0] });
  }
  return out;
}

const NOT_A_CARD_CONTEXT = /(?:\b(?:order|invoice|tracking|ticket|ref|reference|account|case|id)(?: number| no\.?)?\s*[#:]?\s*|#\s*)$/i;

/** Luhn (mod 10) checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer identification ranges of the card networks in use (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir). */
function hasCardPrefix(d: string): boolean {
  const two = Number(d.slice(0, 2));
  const four = Number(d.slice(0, 4));
  const three = Number(d.slice(0, 3));
  if (d[0] === "4") return true; // Visa
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return true; // Mastercard
  if (two === 34 || two === 37) return true; // Amex
  if (d.startsWith("6011") || two === 65 || (three >= 644 && three <= 649)) return true; // Discover
  if (four >= 3528 && four <= 3589) return true; // JCB
  if (two === 36 || two === 38 || two === 39 || (three >= 300 && three <= 305)) return true; // Diners
  if (two === 62 || two === 81) return true; // UnionPay
  if (two === 50 || (two >= 56 && two <= 69)) return true; // Maestro
  if (four >= 2200 && four <= 2204) return true; // Mir
  return false;
}

/** A country code, two check digits, then alphanumerics optionally grouped by single spaces. */
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){8,32})/g;

export function detectIbans(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(IBAN_CANDIDATE)) {
    const spec = countrySpecs[m[1] as keyof typeof countrySpecs];
    const total = spec?.chars;
    if (!total) continue;
    // Take exactly the country's length of alphanumerics (a greedy match may have run into a following word).
    let need = total - 4;
    let end = m.index + 4;
    while (need > 0 && end < text.length) {
      const ch = text[end]!;
      if (ch !== " ") need--;
      end++;
    }
    if (need > 0) continue;
    if (/[A-Za-z0-9]/.test(text[end] ?? "")) continue; // runs on: not this IBAN
    const value = text.slice(m.index, end);
    // The ISO 13616 mod-97 check and the country's BBAN format must hold; a wrong national check digit
    // (ibantools' WrongAccountBankBranchChecksum) is still somebody's account number, mistyped.
    const { errorCodes } = validateIBAN(value.replace(/ /g, ""));
    if (errorCodes.some((code) => code !== ValidationErrorsIBAN.WrongAccountBankBranchChecksum)) continue;
    out.push({ type: "iban", start: m.index, end, value });
  }
  return out;
}

const SSN_PATTERN = /(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d]|-\d)/g;

export function detectSsns(text: string): PiiMatch[] {
  return regexMatches(text, SSN_PATTERN, "ssn");
}

const IPV4_PATTERN =
  /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)/g;
const IPV6_CANDIDATE = /(?<![0-9A-Fa-f:])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?![0-9A-Fa-f:])/g;

export function detectIps(text: string): PiiMatch[] {
  const out = regexMatches(text, IPV4_PATTERN, "ip");
  for (const m of text.matchAll(IPV6_CANDIDATE)) {
    if (isIPv6(m[0])) out.push({ type: "ip", start: m.index, end: m.index + m[0].length, value: m[0] });
  }
  return out;
}

function regexMatches(text: string, pattern: RegExp, type: PiiEntityType): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(pattern)) out.push({ type, start: m.index, end: m.index + m[0].length, value: m[0] });
  return out;
}

/** The detector for each type, with the options applied. */
export function entityDetectors(options: DetectorOptions = {}): Record<PiiEntityType, EntityDetector> {
  return {
    email: detectEmails,
    phone: phoneDetector(options),
    credit_card: detectCreditCards,
    iban: detectIbans,
    ssn: detectSsns,
    ip: detectIps,
  };
}

/**
 * When two detections overlap, the more specific one wins: a checksum-validated
 * card or IBAN over a phone number read inside it, an email over anything in it.
 */
export const TYPE_PRIORITY: Record<PiiEntityType, number> = {
  email: 0,
  iban: 1,
  credit_card: 2,
  ssn: 3,
  ip: 4,
  phone: 5,
};

/** Keeps non-overlapping matches, preferring higher priority, then longer; returns them in text order. */
export function resolveOverlaps(matches: PiiMatch[]): PiiMatch[] {
  const ranked = [...matches].sort(
    (a, b) => TYPE_PRIORITY[a.type] - TYPE_PRIORITY[b.type] || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: PiiMatch[] = [];
  for (const m of ranked) {
    if (kept.every((k) => m.end <= k.start || m.start >= k.end)) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}
