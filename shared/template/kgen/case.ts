const SEPARATOR = /[^\p{L}\p{N}]+/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{N}/u;

/**
 * Splits an identifier or phrase into words: at every run of characters that are neither
 * letters nor digits, between a lowercase letter or digit and an uppercase letter
 * (`fooBar`, `v2Api`), and before the last capital of an acronym followed by lowercase
 * (`XMLHttp` → `XML`, `Http`). Digits stay with the word before them (`v2`, `utf8`).
 */
export function splitWords(input: unknown): string[] {
  const text = input === undefined || input === null ? "" : String(input);
  const words: string[] = [];
  for (const chunk of text.split(SEPARATOR)) {
    if (!chunk) continue;
    const chars = Array.from(chunk);
    let current = "";
    for (let i = 0; i < chars.length; i++) {
      const char = chars[i] as string;
      const previous = chars[i - 1];
      const next = chars[i + 1];
      const startsWord =
        previous !== undefined &&
        UPPER.test(char) &&
        (LOWER.test(previous) ||
          DIGIT.test(previous) ||
          (UPPER.test(previous) && next !== undefined && LOWER.test(next)));
      if (startsWord && current) {
        words.push(current);
        current = "";
      }
      current += char;
    }
    if (current) words.push(current);
  }
  return words;
}

function capitalize(word: string): string {
  const [first = "", ...rest] = Array.from(word);
  return first.toUpperCase() + rest.join("").toLowerCase();
}

/** `user profile-id` → `userProfileId`. */
export function camelCase(input: unknown): string {
  return splitWords(input)
    .map((word, index) => (index === 0 ? word.toLowerCase() : capitalize(word)))
    .join("");
}

/** `user profile-id` → `UserProfileId`. */
export function pascalCase(input: unknown): string {
  return splitWords(input).map(capitalize).join("");
}

/** `UserProfileID` → `user-profile-id`. */
export function kebabCase(input: unknown): string {
  return splitWords(input)
    .map((word) => word.toLowerCase())
    .join("-");
}

/** `UserProfileID` → `user_profile_id`. */
export function snakeCase(input: unknown): string {
  return splitWords(input)
    .map((word) => word.toLowerCase())
    .join("_");
}

/** `userProfileId` → `USER_PROFILE_ID`. */
export function constantCase(input: unknown): string {
  return splitWords(input)
    .map((word) => word.toUpperCase())
    .join("_");
}
