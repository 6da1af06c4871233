//! The blob store contract as tests: every engine runs this one suite
//! (`blob_store_contract!(factory)` in the engine's module).

use super::*;
use protocol::blob::digest;

pub(crate) trait BlobFactory {
    fn fresh(&self) -> Box<dyn BlobStore>;
    /// The same store closed and opened again (a restart), if the engine persists.
    fn reopen(&self, old: Box<dyn BlobStore>) -> Option<Box<dyn BlobStore>>;
}

macro_rules! blob_store_contract {
    ($factory:expr) => {
        $crate::storage::blob::contract::blob_store_contract!(@cases $factory;
            uploads_append_at_their_offset_and_finish_whole,
            the_same_content_is_stored_once,
            a_mismatch_stores_nothing,
            appended_chunks_survive_a_restart,
            uploads_are_per_uploader_and_swept,
        );
    };
    (@cases $factory:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::storage::blob::contract::$case(&$factory);
            }
        )+
    };
}
pub(crate) use blob_store_contract;

fn key(user: &str, bytes: &[u8]) -> UploadKey {
    UploadKey { uploader: user.into(), hash: digest(bytes) }
}

const FILE: &[u8] = b"%PDF-1.7 the signed contract, page 1 ... page 2 ... page 3";

pub(crate) fn uploads_append_at_their_offset_and_finish_whole(f: &dyn BlobFactory) {
    let s = f.fresh();
    let k = key("li", FILE);
    assert_eq!(s.received(&k).unwrap(), 0);
    assert_eq!(s.append(&k, 0, &FILE[..10]).unwrap(), 10);
    assert_eq!(s.append(&k, 5, &FILE[5..20]).unwrap(), 10, "not where the upload is: nothing written");
    assert_eq!(s.append(&k, 20, &FILE[20..]).unwrap(), 10, "a gap is refused too");
    assert_eq!(s.append(&k, 10, &FILE[10..]).unwrap(), FILE.len() as u64);
    assert_eq!(s.size(&k.hash).unwrap(), None, "not stored before it is finished");
    assert_eq!(s.finish(&k, FILE.len() as u64).unwrap(), Finished::Stored);
    assert_eq!(s.size(&k.hash).unwrap(), Some(FILE.len() as u64));
    assert_eq!(s.received(&k).unwrap(), 0, "the upload is gone");
    assert_eq!(s.read(&k.hash, 0, 8).unwrap(), b"%PDF-1.7");
    assert_eq!(s.read(&k.hash, 4, 4).unwrap(), b"-1.7");
    assert!(s.read(&k.hash, 10_000, 4).unwrap().is_empty());
    assert_eq!(s.stored().unwrap(), vec![(k.hash, FILE.len() as u64)]);
}

pub(crate) fn the_same_content_is_stored_once(f: &dyn BlobFactory) {
    let s = f.fresh();
    for user in ["li", "wang"] {
        let k = key(user, FILE);
        s.append(&k, 0, FILE).unwrap();
        assert_eq!(s.finish(&k, FILE.len() as u64).unwrap(), Finished::Stored);
    }
    assert_eq!(s.stored().unwrap().len(), 1);
}

pub(crate) fn a_mismatch_stores_nothing(f: &dyn BlobFactory) {
    let s = f.fresh();
    let k = key("li", FILE);
    s.append(&k, 0, b"%PDF-1.7 something else entirely").unwrap();
    assert_eq!(s.finish(&k, 33).unwrap(), Finished::Mismatch);
    let k2 = key("li", b"abc");
    s.append(&k2, 0, b"abc").unwrap();
    assert_eq!(s.finish(&k2, 4).unwrap(), Finished::Mismatch, "the size is checked too");
    assert!(s.stored().unwrap().is_empty());
    assert_eq!(s.received(&k).unwrap(), 0);
    assert_eq!(s.uploads_of("li").unwrap(), 0);
    s.append(&k, 0, b"x").unwrap();
    s.discard(&k).unwrap();
    s.discard(&k).unwrap();
    assert_eq!(s.received(&k).unwrap(), 0);
}

pub(crate) fn appended_chunks_survive_a_restart(f: &dyn BlobFactory) {
    let s = f.fresh();
    let k = key("li", FILE);
    s.append(&k, 0, &FILE[..16]).unwrap();
    let Some(s) = f.reopen(s) else { return };
    assert_eq!(s.received(&k).unwrap(), 16, "what was acknowledged is there after a restart");
    s.append(&k, 16, &FILE[16..]).unwrap();
    assert_eq!(s.finish(&k, FILE.len() as u64).unwrap(), Finished::Stored);
    let Some(s) = f.reopen(s) else { return };
    assert_eq!(s.read(&k.hash, 0, FILE.len()).unwrap(), FILE);
}

pub(crate) fn uploads_are_per_uploader_and_swept(f: &dyn BlobFactory) {
    let s = f.fresh();
    s.append(&key("li", FILE), 0, b"%P").unwrap();
    s.append(&key("li", b"other"), 0, b"o").unwrap();
    s.append(&key("王", FILE), 0, b"%PDF").unwrap();
    assert_eq!(s.uploads_of("li").unwrap(), 2);
    assert_eq!(s.uploads_of("王").unwrap(), 1);
    assert_eq!(s.received(&key("王", FILE)).unwrap(), 4, "each uploader has their own");
    assert_eq!(s.sweep(std::time::Duration::from_secs(3600)).unwrap(), 0);
    assert_eq!(s.sweep(std::time::Duration::ZERO).unwrap(), 3);
    assert_eq!(s.uploads_of("li").unwrap(), 0);
}
