//! The in-memory store keeps the `LocalStore` contract: every scenario of
//! `client_core::store_contract`, with injected failures (it has no storage to reopen and
//! no second handle).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use client_core::MemStore;
use client_core::store_contract::{self, StoreFactory};

struct Mem;

impl StoreFactory for Mem {
    type Store = MemStore;

    fn create(&mut self, _scenario: &str) -> Result<MemStore, String> {
        Ok(MemStore::default())
    }

    fn fail_next_batch_after(&mut self, store: &mut MemStore, after: usize) -> bool {
        store.fail_next_batch_after(after);
        true
    }
}

#[test]
fn the_memory_store_keeps_the_store_contract() {
    let report = store_contract::run(Mem).unwrap();
    assert_eq!(report.scenarios.len(), store_contract::scenarios().len());
    for skipped in report.skipped() {
        assert!(skipped.contains("not persistent") || skipped.contains("no second handle"), "{skipped}");
    }
}
