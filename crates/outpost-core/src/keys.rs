//! Client-side key generation. Keys are made on the device so a customer has
//! its identity before any CRM has seen it; the same key is the CRM's external id.
//!
//! Every key is a UUID (the CLI, the IPC and the store parse keys as UUIDs).
//! A connector may supply its own generator (`CrmConnector::key_generator`):
//! it controls the UUID's layout, never its syntax. [`ShopKeys`] is the one
//! Outpost ships: a UUIDv8 carrying the shop's number.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Keys that name the shop (or till, or laptop) that made them: a UUIDv8
/// laid out like a UUIDv7 (time first, so inserts stay at the right edge of
/// the index) with the shop's number in its last six hex digits, written as
/// decimal digits so a person reads it:
///
/// ```text
/// 0192f0c4-3a10-8005-a3c1-5e9d8f000017      shop 17
/// └─ Unix ms (48) ─┘ │└┬┘ └─ random (38) ┘└shop┘
///              version 8, sequence (12)
/// ```
///
/// Unique by construction: one generator's (millisecond, sequence) pairs
/// strictly increase (a full millisecond borrows the next one), and keys of
/// different shops differ in the shop digits. Two generators of the same
/// shop (the app and a CLI on one till, or a clock set back) are kept apart
/// by the random bits and the random start of each millisecond's sequence,
/// as UUIDv7 keys are; a version-8 key never equals a version-7 one.
#[derive(Debug)]
pub struct ShopKeys {
    shop: u32,
    /// The shop's number as six BCD digits (the last three bytes).
    digits: [u8; 3],
    /// The last key's `(unix ms << 12) | sequence`.
    last: Mutex<u64>,
}

impl ShopKeys {
    /// Shop numbers are 1 to 999,999 (six decimal digits).
    pub const MAX_SHOP: u32 = 999_999;

    /// `None` when `shop` is not 1..=999,999.
    pub fn new(shop: u32) -> Option<Self> {
        if !(1..=Self::MAX_SHOP).contains(&shop) {
            return None;
        }
        let bcd = (0..6).fold(0u32, |acc, i| acc | ((shop / 10u32.pow(i)) % 10) << (4 * i));
        let [_, a, b, c] = bcd.to_be_bytes();
        Some(ShopKeys {
            shop,
            digits: [a, b, c],
            last: Mutex::new(0),
        })
    }

    /// This process's generator for `shop`, made on first use: a connector
    /// rebuilt on every settings change continues the same sequence instead
    /// of starting one that could meet it within a millisecond.
    pub fn for_shop(shop: u32) -> Option<Arc<ShopKeys>> {
        static SHOPS: Mutex<Vec<Arc<ShopKeys>>> = Mutex::new(Vec::new());
        let mut shops = SHOPS.lock().expect("shop generators lock");
        if let Some(g) = shops.iter().find(|g| g.shop == shop) {
            return Some(g.clone());
        }
        let g = Arc::new(ShopKeys::new(shop)?);
        shops.push(g.clone());
        Some(g)
    }

    pub fn shop(&self) -> u32 {
        self.shop
    }

    /// The shop number a key of this layout carries; `None` for any other
    /// key (a UUIDv7, a version-8 key whose last six digits are not decimal).
    pub fn shop_of(key: CustomerId) -> Option<u32> {
        let uuid = key.as_uuid();
        if uuid.get_version_num() != 8 || uuid.get_variant() != uuid::Variant::RFC4122 {
            return None;
        }
        let b = uuid.as_bytes();
        let bcd = u32::from_be_bytes([0, b[13], b[14], b[15]]);
        let mut shop = 0;
        for i in (0..6).rev() {
            let digit = (bcd >> (4 * i)) & 0xF;
            if digit > 9 {
                return None;
            }
            shop = shop * 10 + digit;
        }
        (shop >= 1).then_some(shop)
    }

    /// The next `(ms << 12) | sequence`, strictly above the last one.
    fn next_stamp(&self, now_ms: u64, random_start: u64) -> u64 {
        let mut last = self.last.lock().expect("key generator lock");
        // A new millisecond starts its sequence at a random point in the
        // lower half, so a second generator of the same shop rarely meets it.
        let fresh = (now_ms << 12) | (random_start & 0x7FF);
        let next = fresh.max(*last + 1);
        *last = next;
        next
    }
}

impl KeyGenerator for ShopKeys {
    fn generate(&self) -> CustomerId {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let random: u64 = rand::random();
        let stamp = self.next_stamp(now_ms, random >> 53);
        let (ms, seq) = (stamp >> 12, stamp & 0xFFF);
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = 0x80 | (seq >> 8) as u8; // version 8
        b[7] = seq as u8;
        b[8..13].copy_from_slice(&random.to_be_bytes()[3..]);
        b[8] = 0x80 | (b[8] & 0x3F); // RFC 4122 variant
        b[13..].copy_from_slice(&self.digits);
        CustomerId(Uuid::from_bytes(b))
    }
}

/// The store's source of keys: the primary endpoint's connector's generator
/// while one is in use, else the default. Shared by every clone of a store.
pub(crate) struct KeySource {
    default: Arc<dyn KeyGenerator>,
    connector: RwLock<Option<Arc<dyn KeyGenerator>>>,
}

impl KeySource {
    pub(crate) fn new(default: Arc<dyn KeyGenerator>) -> Self {
        KeySource {
            default,
            connector: RwLock::new(None),
        }
    }

    pub(crate) fn set(&self, connector: Option<Arc<dyn KeyGenerator>>) {
        *self.connector.write().expect("key source lock") = connector;
    }

    pub(crate) fn generate(&self) -> CustomerId {
        match &*self.connector.read().expect("key source lock") {
            Some(g) => g.generate(),
            None => self.default.generate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

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

    /// 100,000 keys from one shop's generator on four threads, and 100,000
    /// from another shop's at the same time: no key twice.
    #[test]
    fn shop_keys_are_unique_across_threads_and_shops() {
        let shop1 = Arc::new(ShopKeys::new(1).unwrap());
        let shop2 = Arc::new(ShopKeys::new(2).unwrap());
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let keys = if i % 2 == 0 {
                    shop1.clone()
                } else {
                    shop2.clone()
                };
                std::thread::spawn(move || (0..25_000).map(|_| keys.generate()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        let mut per_shop = [0usize; 2];
        for (i, h) in handles.into_iter().enumerate() {
            let batch = h.join().unwrap();
            assert!(
                batch.windows(2).all(|w| w[0] < w[1]),
                "one thread's keys increase"
            );
            for k in batch {
                let shop = ShopKeys::shop_of(k).expect("a shop key");
                assert_eq!(shop as usize, i % 2 + 1);
                per_shop[i % 2] += 1;
                assert!(seen.insert(k), "duplicate key {k}");
            }
        }
        assert_eq!(per_shop, [100_000, 100_000]);
        assert_eq!(seen.len(), 200_000);
    }

    #[test]
    fn a_shop_key_is_a_uuid_that_ends_in_the_shop_number() {
        let keys = ShopKeys::new(17).unwrap();
        let k = keys.generate();
        let text = k.to_string();
        assert!(text.ends_with("000017"), "{text}");
        assert_eq!(text.parse::<CustomerId>().unwrap(), k, "parses as a key");
        assert_eq!(k.as_uuid().get_version_num(), 8);
        assert_eq!(k.as_uuid().get_variant(), uuid::Variant::RFC4122);
        assert_eq!(ShopKeys::shop_of(k), Some(17));
        assert!(ShopKeys::new(999_999)
            .unwrap()
            .generate()
            .to_string()
            .ends_with("999999"));
        // Time first, like UUIDv7.
        let uuid = k.as_uuid();
        let b = uuid.as_bytes();
        let ms = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(now.as_millis() as u64 - ms < 5_000, "starts with the time");
        assert_eq!(ShopKeys::shop_of(UuidV7Keys.generate()), None);
        for bad in [0, 1_000_000] {
            assert!(ShopKeys::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_full_millisecond_borrows_the_next_and_a_clock_set_back_never_repeats() {
        let keys = ShopKeys::new(5).unwrap();
        let mut last = 0;
        for _ in 0..5000 {
            let next = keys.next_stamp(1_000, 0);
            assert!(next > last);
            last = next;
        }
        assert_eq!(last >> 12, 1_001, "4096 per millisecond, then the next");
        assert!(keys.next_stamp(10, 0x7FF) > last, "the clock went back");
    }

    #[test]
    fn one_generator_per_shop_per_process() {
        let a = ShopKeys::for_shop(31).unwrap();
        let b = ShopKeys::for_shop(31).unwrap();
        assert!(
            Arc::ptr_eq(&a, &b),
            "a rebuilt connector continues the sequence"
        );
        assert!(!Arc::ptr_eq(&a, &ShopKeys::for_shop(32).unwrap()));
        assert!(ShopKeys::for_shop(0).is_none());
    }

    #[test]
    fn the_store_uses_the_connectors_generator_while_it_is_set() {
        let source = KeySource::new(Arc::new(UuidV7Keys));
        assert_eq!(source.generate().as_uuid().get_version_num(), 7);
        source.set(Some(Arc::new(ShopKeys::new(42).unwrap())));
        assert_eq!(ShopKeys::shop_of(source.generate()), Some(42));
        source.set(None);
        assert_eq!(source.generate().as_uuid().get_version_num(), 7);
    }
}
