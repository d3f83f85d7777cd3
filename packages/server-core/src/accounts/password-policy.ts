import { ErrorCode, NatterError } from '@natter/protocol';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/** zxcvbn's score: 0 (too guessable) to 4 (very unguessable). */
export type PasswordScore = 0 | 1 | 2 | 3 | 4;

let estimator: ZxcvbnFactory | undefined;

/**
 * Refuses passwords that are common or easy to guess, with zxcvbn-ts and its maintained lists of common
 * passwords, names and keyboard patterns (not a list of our own). The user's own username and display name
 * count as known words, so `alice2024` is weak for alice.
 * @throws NatterError WEAK_PASSWORD when the score is below `minScore`.
 */
export function checkPasswordStrength(
  password: string,
  userInputs: readonly string[],
  minScore: PasswordScore,
): void {
  // Built at first use: the dictionaries take a moment to index, and servers with signup off never need them.
  estimator ??= new ZxcvbnFactory({ dictionary: { ...dictionary }, graphs: adjacencyGraphs });
  const { score, feedback } = estimator.check(password, [...userInputs]);
  if (score < minScore) {
    const hint = feedback.warning ? `: ${feedback.warning}` : '';
    throw new NatterError(ErrorCode.WEAK_PASSWORD, `password is too easy to guess${hint}`);
  }
}
