//! Three-way merge of text fields through diff-match-patch.
//!
//! Texts are cut into Unicode word-boundary segments (UAX #29: words, runs of
//! spaces, single punctuation marks, whole emoji sequences), and each distinct
//! segment becomes one token. Working on tokens rather than on bytes, UTF-16
//! units or code points means a merge can never split a character, an emoji
//! joined by zero-width joiners or a letter from its combining marks, and two
//! edits of the same word clash instead of producing a word neither side wrote.
//! diff-match-patch (Myers' diff with its speedups) finds each side's edits
//! against the base; the edits are then applied exactly (see [`super::hunks`]):
//! an edit whose surroundings the other side changed is a clash, never a fuzzy
//! guess.

use std::collections::HashMap;

use diff_match_patch_rs::{Compat, DiffMatchPatch, Ops};
use unicode_segmentation::UnicodeSegmentation;

use super::hunks::{hunks_of, merge_hunks, Hunk, Mode, Op};

/// Milliseconds one diff may take before diff-match-patch settles for a
/// coarser (still correct) diff: a merge runs inside a storage transaction.
const DIFF_TIMEOUT_MS: u32 = 1_000;

/// Merges `local` and `remote` against `base`; `None` is a clash.
pub(crate) fn merge_text(base: &str, local: &str, remote: &str) -> Option<String> {
    let mut tokens = Tokens::default();
    let base = tokens.encode(base)?;
    let local = tokens.encode(local)?;
    let remote = tokens.encode(remote)?;
    let local_hunks = diff(&base, &local)?;
    let remote_hunks = diff(&base, &remote)?;
    let base: Vec<char> = base.chars().collect();
    let merged = merge_hunks(&base, local_hunks, remote_hunks, Mode::Text)?;
    tokens.decode(&merged)
}

/// The hunks that turn `base` into `side`, both token strings.
fn diff(base: &str, side: &str) -> Option<Vec<Hunk<char>>> {
    let mut dmp = DiffMatchPatch::new();
    // Token strings are short and hold no real lines: the line-level speedup
    // would only make the diff coarser.
    dmp.set_checklines(false);
    dmp.set_timeout(Some(DIFF_TIMEOUT_MS));
    let diffs = dmp.diff_main::<Compat>(base, side).ok()?;
    let ops = diffs.iter().map(|d| match d.op() {
        Ops::Equal => Op::Keep(d.size()),
        Ops::Delete => Op::Delete(d.size()),
        Ops::Insert => Op::Insert(d.data().to_vec()),
    });
    Some(hunks_of(ops))
}

/// The table between text segments and the characters that stand for them.
#[derive(Debug, Default)]
struct Tokens<'a> {
    ids: HashMap<&'a str, char>,
    segments: HashMap<char, &'a str>,
}

impl<'a> Tokens<'a> {
    /// `text` as a string of one token character per segment; `None` in the
    /// (theoretical) case of more distinct segments than Unicode has scalars.
    fn encode(&mut self, text: &'a str) -> Option<String> {
        let mut encoded = String::new();
        for segment in text.split_word_bounds() {
            let token = match self.ids.get(segment) {
                Some(token) => *token,
                None => {
                    let token = token_char(self.ids.len())?;
                    self.ids.insert(segment, token);
                    self.segments.insert(token, segment);
                    token
                }
            };
            encoded.push(token);
        }
        Some(encoded)
    }

    /// The text a token string stands for.
    fn decode(&self, tokens: &[char]) -> Option<String> {
        tokens
            .iter()
            .map(|t| self.segments.get(t).copied())
            .collect()
    }
}

/// The character standing for the `n`th distinct segment. Token strings hold
/// only such characters, so any scalar value will do; from the private use
/// area upwards there are no surrogates to skip and about a million to use.
fn token_char(n: usize) -> Option<char> {
    char::from_u32(u32::try_from(n).ok()?.checked_add(0xE000)?)
}
