use std::collections::HashMap;
use crate::config::{Settings, load as load_settings};
use super::errors::*;

mod cache;

pub const DEFAULT_TTL: u64 = 60;

/// An in-memory cache with expiry.
#[derive(Debug, Default)]
pub struct Cache {
    entries: HashMap<String, (u64, String)>,
    ttl: u64,
}

pub trait Store {
    fn get(&self, key: &str) -> Option<&String>;
}

impl Cache {
    pub fn new(settings: &Settings) -> Self {
        Cache { entries: HashMap::new(), ttl: settings.ttl.unwrap_or(DEFAULT_TTL) }
    }

    pub fn insert(&mut self, key: String, value: String, now: u64) {
        self.entries.insert(key, (now + self.ttl, value));
    }
}

impl Store for Cache {
    fn get(&self, key: &str) -> Option<&String> {
        self.entries.get(key).map(|(_, v)| v)
    }
}

pub fn warm(cache: &mut Cache) {
    let _ = load_settings();
    cache.insert("warm".into(), "yes".into(), 0);
}
