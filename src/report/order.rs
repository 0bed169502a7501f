//! A reorder buffer: items arrive tagged with a gap-free sequence number in any order and
//! leave in sequence order as soon as every earlier one has arrived.
//!
//! It holds only the items that arrived ahead of a missing one, so with a bounded work queue
//! its size is bounded by the rows in flight. It knows nothing of rows or files.

use std::collections::BTreeMap;

pub(crate) struct Reorder<T> {
    next: u64,
    held: BTreeMap<u64, T>,
}

impl<T> Reorder<T> {
    pub(crate) fn new() -> Reorder<T> {
        Reorder {
            next: 0,
            held: BTreeMap::new(),
        }
    }

    /// Accepts item `seq`; returns the items now due, in order. A sequence number already
    /// passed (a duplicate) is emitted at once rather than dropped: losing a row from the
    /// report would be worse than a row out of place.
    pub(crate) fn push(&mut self, seq: u64, item: T) -> Vec<T> {
        if seq < self.next {
            return vec![item];
        }
        self.held.insert(seq, item);
        let mut due = Vec::new();
        while let Some(item) = self.held.remove(&self.next) {
            due.push(item);
            self.next += 1;
        }
        due
    }

    /// Items waiting for an earlier one.
    pub(crate) fn held(&self) -> impl Iterator<Item = &T> {
        self.held.values()
    }

    /// Everything still held, in order, skipping the gaps (used at finish and on interrupt).
    pub(crate) fn drain_all(&mut self) -> Vec<T> {
        let held = std::mem::take(&mut self.held);
        if let Some(last) = held.keys().next_back() {
            self.next = last + 1;
        }
        held.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_in_order_whatever_the_arrival_order() {
        let mut order = Reorder::new();
        assert!(order.push(2, 'c').is_empty());
        assert!(order.push(1, 'b').is_empty());
        assert_eq!(order.push(0, 'a'), vec!['a', 'b', 'c']);
        assert_eq!(order.push(3, 'd'), vec!['d']);
        assert!(order.push(5, 'f').is_empty());
        assert_eq!(order.drain_all(), vec!['f']);
        assert_eq!(order.push(6, 'g'), vec!['g']);
    }
}
