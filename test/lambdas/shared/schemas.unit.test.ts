/** Request validation: the first problem with a body, as one sentence for the client. */
import { describe, expect, it } from 'vitest';
import { REQUEST_SCHEMAS, validationError } from '#shared/schemas.ts';

const chat = REQUEST_SCHEMAS.chatCompletions;
const gemini = REQUEST_SCHEMAS.geminiModel;

describe('validationError', () => {
  it('accepts a valid body, unknown fields included (they are the upstream to judge)', () => {
    expect(
      chat && validationError(chat, { model: 'a/b', messages: [{}], temperature: 2, extra: true }),
    ).toBeUndefined();
  });

  it('names a missing or mistyped required field and what it must be', () => {
    expect(chat && validationError(chat, { messages: [{}] })).toBe(
      "'model' is required and must be a string of at most 256 characters.",
    );
    expect(chat && validationError(chat, { model: 'a/b', messages: 'hi' })).toMatch(
      /^'messages' is required and must be/,
    );
  });

  it('treats a null optional field as absent, but checks one that is present', () => {
    expect(chat && validationError(chat, { model: 'a/b', messages: [{}], stream: null })).toBeUndefined();
    expect(chat && validationError(chat, { model: 'a/b', messages: [{}], stream: 'yes' })).toBe(
      "'stream' must be a boolean.",
    );
  });

  it('requires a non-empty contents array from Gemini clients', () => {
    expect(gemini && validationError(gemini, { contents: [] })).toBe(
      "'contents' is required and must be a non-empty array.",
    );
  });
});
