//! Three-way merge of JSON arrays as lists.
//!
//! Each side's change is found with a longest-common-subsequence diff against
//! the base. When both sides only inserted or removed elements the changes are
//! united (two inspectors adding extinguishers to one report keep both; the
//! same element added on both sides is kept once). When a side replaced
//! elements (an edit of an element shows as one) and the other side touched
//! the same elements, it is a clash.

use serde_json::Value;

use super::hunks::{hunks_of, merge_hunks, Hunk, Mode, Op};

/// The largest diff table (base elements × side elements, after common ends
/// are trimmed) computed; larger arrays changed on both sides are a clash
/// rather than a long stall of the sync.
const MAX_CELLS: usize = 1_000_000;

/// Merges `local` and `remote` against `base`; `None` is a clash.
pub(crate) fn merge_arrays(
    base: &[Value],
    local: &[Value],
    remote: &[Value],
) -> Option<Vec<Value>> {
    let local = diff(base, local)?;
    let remote = diff(base, remote)?;
    merge_hunks(base, local, remote, Mode::List)
}

/// The hunks that turn `base` into `side`; `None` when the diff is too large.
fn diff(base: &[Value], side: &[Value]) -> Option<Vec<Hunk<Value>>> {
    let prefix = base.iter().zip(side).take_while(|(b, s)| b == s).count();
    let suffix = base[prefix..]
        .iter()
        .rev()
        .zip(side[prefix..].iter().rev())
        .take_while(|(b, s)| b == s)
        .count();
    let b = &base[prefix..base.len() - suffix];
    let s = &side[prefix..side.len() - suffix];
    if b.len().saturating_mul(s.len()) > MAX_CELLS {
        return None;
    }
    let mut ops = vec![Op::Keep(prefix)];
    ops.extend(lcs_script(b, s));
    ops.push(Op::Keep(suffix));
    Some(hunks_of(ops))
}

/// An edit script from `b` to `s` through a longest common subsequence.
fn lcs_script(b: &[Value], s: &[Value]) -> Vec<Op<Value>> {
    let width = s.len() + 1;
    // table[i * width + j]: length of the LCS of b[i..] and s[j..].
    let mut table = vec![0u32; (b.len() + 1) * width];
    for i in (0..b.len()).rev() {
        for j in (0..s.len()).rev() {
            table[i * width + j] = if b[i] == s[j] {
                table[(i + 1) * width + j + 1] + 1
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < b.len() || j < s.len() {
        if i < b.len() && j < s.len() && b[i] == s[j] {
            ops.push(Op::Keep(1));
            i += 1;
            j += 1;
        } else if j == s.len()
            || (i < b.len() && table[(i + 1) * width + j] >= table[i * width + j + 1])
        {
            ops.push(Op::Delete(1));
            i += 1;
        } else {
            ops.push(Op::Insert(vec![s[j].clone()]));
            j += 1;
        }
    }
    ops
}
