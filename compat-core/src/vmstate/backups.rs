//! The copies a load keeps of the states it writes, to undo it if a later
//! section fails, and the per-type slots they (and the stream's cache of
//! fixed layouts) are kept in.

use std::any::{Any, TypeId};

/// One value per Rust type, for the few types a machine has: a short list,
/// the type asked for last looked at first (devices of one type often come
/// in a row).
pub(crate) struct TypeSlots<V> {
    slots: Vec<(TypeId, V)>,
    last: usize,
}

impl<V> Default for TypeSlots<V> {
    fn default() -> Self {
        TypeSlots {
            slots: Vec::new(),
            last: 0,
        }
    }
}

impl<V> TypeSlots<V> {
    /// The value of type `ty`, made by `make` the first time.
    pub(crate) fn get_or_insert_with(&mut self, ty: TypeId, make: impl FnOnce() -> V) -> &mut V {
        let k = match self.slots.get(self.last) {
            Some((t, _)) if *t == ty => self.last,
            _ => match self.slots.iter().position(|(t, _)| *t == ty) {
                Some(k) => k,
                None => {
                    self.slots.push((ty, make()));
                    self.slots.len() - 1
                }
            },
        };
        self.last = k;
        &mut self.slots[k].1
    }
}

/// Copies of states kept while a stream loads, to undo the load if a later
/// section fails: kept per state type, in chunks, so that a copy of each of
/// many small devices is not an allocation each, and a large state is
/// copied once — never moved again as the store grows.
#[derive(Default)]
pub struct Backups {
    by_type: TypeSlots<Box<dyn Any + Send>>,
}

/// The copies of one type: chunks that each keep their first allocation.
pub(super) struct Copies<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Clone> Copies<T> {
    /// Keep a copy of `state`; its index.
    pub(super) fn keep(&mut self, state: &T) -> usize {
        if self.chunks.last().is_none_or(|c| c.len() == c.capacity()) {
            // Each chunk as large as all before it, up to 64 KiB (one
            // element at least): few chunks for small states, and memory
            // the allocator keeps at hand rather than fresh pages it must
            // map for each load.
            let most = (64 << 10) / std::mem::size_of::<T>().max(1);
            let capacity = self.len.max(4).min(most).max(1);
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        // Cloned in place, not built apart and moved in.
        chunk.extend_from_slice(std::slice::from_ref(state));
        self.len += 1;
        self.len - 1
    }

    /// Take back the copy kept last.
    pub(super) fn pop(&mut self) -> Option<T> {
        let copy = self.chunks.last_mut()?.pop()?;
        self.len -= 1;
        Some(copy)
    }

    /// The copy at `index`.
    pub(super) fn get_mut(&mut self, mut index: usize) -> &mut T {
        for chunk in &mut self.chunks {
            if index < chunk.len() {
                return &mut chunk[index];
            }
            index -= chunk.len();
        }
        unreachable!("a copy that was kept")
    }
}

impl Backups {
    /// The copies of type `T`.
    pub(super) fn of<T: Clone + Any + Send>(&mut self) -> &mut Copies<T> {
        self.by_type
            .get_or_insert_with(TypeId::of::<T>(), || {
                Box::new(Copies::<T> {
                    chunks: Vec::new(),
                    len: 0,
                })
            })
            .downcast_mut::<Copies<T>>()
            .expect("the copies of its type")
    }
}

#[cfg(test)]
mod tests {
    use super::Backups;

    #[test]
    fn copies_are_found_again_across_chunks_and_types() {
        let mut backups = Backups::default();
        let small: Vec<u32> = (0..1000).collect();
        for (i, v) in small.iter().enumerate() {
            assert_eq!(backups.of::<u32>().keep(v), i);
        }
        let big = [7u8; 100_000];
        assert_eq!(backups.of::<[u8; 100_000]>().keep(&big), 0);
        assert_eq!(backups.of::<[u8; 100_000]>().keep(&[8u8; 100_000]), 1);
        for i in [0, 3, 4, 5, 57, 999] {
            assert_eq!(*backups.of::<u32>().get_mut(i), i as u32);
        }
        assert_eq!(backups.of::<[u8; 100_000]>().get_mut(1)[0], 8);
        assert_eq!(backups.of::<u32>().pop(), Some(999));
        assert_eq!(backups.of::<u32>().keep(&5), 999);
        // Chunks grow with what is kept: few of them for many small copies.
        assert!(backups.of::<u32>().chunks.len() <= 10);
    }
}
