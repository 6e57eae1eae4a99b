//! Client-side key generation. Keys are made on the device so a customer has
//! its identity before any CRM has seen it; the same key is the CRM's external id.

use uuid::Uuid;

use crate::customer::CustomerId;

/// Makes new customer keys. A CRM connector may supply its own (for example a
/// CRM that wants keys in a particular format); every implementation must
/// return a key never returned before, across threads and restarts.
pub trait KeyGenerator: Send + Sync + 'static {
    fn generate(&self) -> CustomerId;
}

/// UUIDv7: time-ordered, so new rows land at the right edge of the B-tree
/// instead of splitting pages all over the index as random v4 keys would.
/// The `uuid` crate keeps a process-wide counter, so keys made in the same
/// millisecond still increase.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7Keys;

impl KeyGenerator for UuidV7Keys {
    fn generate(&self) -> CustomerId {
        CustomerId(Uuid::now_v7())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn v7_keys_are_unique_across_threads() {
        let keys = Arc::new(UuidV7Keys);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let keys = keys.clone();
                std::thread::spawn(move || (0..25_000).map(|_| keys.generate()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for h in handles {
            for k in h.join().unwrap() {
                assert!(seen.insert(k), "duplicate key {k}");
            }
        }
        assert_eq!(seen.len(), 100_000);
    }

    #[test]
    fn v7_keys_increase_within_a_thread() {
        let keys = UuidV7Keys;
        let batch: Vec<_> = (0..10_000).map(|_| keys.generate()).collect();
        assert!(
            batch.windows(2).all(|w| w[0] < w[1]),
            "keys must be time-ordered"
        );
        assert!(batch.iter().all(|k| k.as_uuid().get_version_num() == 7));
    }

    #[test]
    fn a_connector_can_supply_its_own_generator() {
        struct Sequential(std::sync::atomic::AtomicU64);
        impl KeyGenerator for Sequential {
            fn generate(&self) -> CustomerId {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                CustomerId(Uuid::from_u64_pair(0xABCD, n))
            }
        }
        let g: Box<dyn KeyGenerator> = Box::new(Sequential(Default::default()));
        assert_ne!(g.generate(), g.generate());
    }
}
