//! Three-way merge of sequences, hunk by hunk.
//!
//! Each side is described by its hunks against the base: a base range replaced
//! by new items. Hunks of the two sides that do not touch are applied together;
//! hunks that do are a clash, except where the sequence kind says otherwise:
//! a list (a JSON array) treats elements as a collection, so insertions at the
//! same place are kept side by side and overlapping removals simply remove; a
//! text has no sensible order between two insertions at one place, so those
//! clash. Application is exact: nothing is ever relocated or fuzzily matched,
//! which is what keeps a merge from silently corrupting either side.

/// One change of a side against the base: `base[start..end]` becomes `items`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hunk<T> {
    /// First base position replaced.
    pub start: usize,
    /// One past the last base position replaced (`start` for a pure insertion).
    pub end: usize,
    /// What the side has in place of the range.
    pub items: Vec<T>,
}

impl<T> Hunk<T> {
    fn is_insertion(&self) -> bool {
        self.start == self.end
    }

    fn is_deletion(&self) -> bool {
        self.items.is_empty()
    }

    /// True when the gap `g` lies strictly inside the replaced range.
    fn surrounds(&self, g: usize) -> bool {
        self.start < g && g < self.end
    }
}

/// How a sequence's elements relate to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A collection: insertions at one place are united, removals add up.
    List,
    /// Running text: any two different changes that touch clash.
    Text,
}

/// One step of an edit script from the base to a side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op<T> {
    /// The next `n` base items are kept.
    Keep(usize),
    /// The next `n` base items are removed.
    Delete(usize),
    /// These items are inserted here.
    Insert(Vec<T>),
}

/// Groups an edit script into hunks: consecutive removals and insertions with
/// no kept item between them form one hunk.
pub(crate) fn hunks_of<T>(ops: impl IntoIterator<Item = Op<T>>) -> Vec<Hunk<T>> {
    let mut hunks = Vec::new();
    let mut open: Option<Hunk<T>> = None;
    let mut pos = 0;
    for op in ops {
        match op {
            Op::Keep(0) => {}
            Op::Keep(n) => {
                hunks.extend(open.take());
                pos += n;
            }
            Op::Delete(n) => {
                let hunk = open.get_or_insert_with(|| empty_hunk(pos));
                hunk.end += n;
                pos += n;
            }
            Op::Insert(items) => {
                let hunk = open.get_or_insert_with(|| empty_hunk(pos));
                hunk.items.extend(items);
            }
        }
    }
    hunks.extend(open);
    hunks.retain(|h| !(h.is_insertion() && h.is_deletion()));
    hunks
}

fn empty_hunk<T>(pos: usize) -> Hunk<T> {
    Hunk {
        start: pos,
        end: pos,
        items: Vec::new(),
    }
}

/// True when hunk `a` of one side and hunk `b` of the other cannot both apply.
fn clash<T>(a: &Hunk<T>, b: &Hunk<T>, mode: Mode) -> bool {
    let list = mode == Mode::List;
    match (a.is_insertion(), b.is_insertion()) {
        (true, true) => a.start == b.start && !list,
        (true, false) => b.surrounds(a.start) && !(list && b.is_deletion()),
        (false, true) => a.surrounds(b.start) && !(list && a.is_deletion()),
        (false, false) => {
            let overlap = a.start < b.end && b.start < a.end;
            overlap && !(list && a.is_deletion() && b.is_deletion())
        }
    }
}

/// Merges two sides given as hunks against `base` (each side's hunks in base
/// order, as [`hunks_of`] makes them). `None` means the sides clash.
///
/// At one place the remote side's insertion comes before the local side's: the
/// server's version was there first. In a list, items the local side inserted
/// that the remote side inserted at the same place too are not repeated.
pub(crate) fn merge_hunks<T: Clone + PartialEq>(
    base: &[T],
    local: Vec<Hunk<T>>,
    mut remote: Vec<Hunk<T>>,
    mode: Mode,
) -> Option<Vec<T>> {
    remote.sort_by_key(|h| h.start);
    let mut local: Vec<Hunk<T>> = local.into_iter().filter(|h| !remote.contains(h)).collect();
    local.sort_by_key(|h| h.start);
    for a in &local {
        // Only remote hunks starting at or before `a` ends can touch it.
        let first = remote.partition_point(|b| b.end < a.start);
        let touching = remote[first..].iter().take_while(|b| b.start <= a.end);
        if touching.into_iter().any(|b| clash(a, b, mode)) {
            return None;
        }
    }
    let mut out = Vec::with_capacity(base.len());
    let (mut li, mut ri) = (0, 0);
    let mut deleted_until = 0;
    for g in 0..=base.len() {
        // Pure insertions at this gap: remote first, then what local adds.
        let remote_inserted = match remote.get(ri) {
            Some(h) if h.start == g && h.is_insertion() => {
                ri += 1;
                h.items.as_slice()
            }
            _ => &[],
        };
        out.extend_from_slice(remote_inserted);
        if let Some(h) = local.get(li).filter(|h| h.start == g && h.is_insertion()) {
            li += 1;
            out.extend(not_repeated(&h.items, remote_inserted));
        }
        // Replacements and removals starting here.
        for (hunks, i) in [(&remote, &mut ri), (&local, &mut li)] {
            if let Some(h) = hunks.get(*i).filter(|h| h.start == g) {
                *i += 1;
                out.extend_from_slice(&h.items);
                deleted_until = deleted_until.max(h.end);
            }
        }
        if g < base.len() && g >= deleted_until {
            out.push(base[g].clone());
        }
    }
    Some(out)
}

/// The items of `local` left once each item of `remote` has cancelled one equal
/// item: identical insertions on both sides are kept once.
fn not_repeated<T: Clone + PartialEq>(local: &[T], remote: &[T]) -> Vec<T> {
    let mut unmatched: Vec<Option<&T>> = remote.iter().map(Some).collect();
    let mut kept = Vec::new();
    for item in local {
        match unmatched.iter_mut().find(|slot| **slot == Some(item)) {
            Some(slot) => *slot = None,
            None => kept.push(item.clone()),
        }
    }
    kept
}
