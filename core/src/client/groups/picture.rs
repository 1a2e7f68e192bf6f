//! The group's picture (SESSION-GROUPS.md §4, SESSION-ATTACHMENTS-CONFIG.md §A.6): as Session
//! does for group avatars, a picture is encrypted in the legacy profile-picture form —
//! AES-256-GCM under a fresh random 32-byte key, `IV(12) ‖ ciphertext ‖ tag(16)` — uploaded as
//! it is (one part, no `#d`), and named with its key in Info `p`/`q`. Members download it,
//! check the file server sent the bytes the URL names, decrypt it and check it is a picture;
//! any member keeps the file alive on the file server while the group shows it.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{GroupStatus, Record};

use crate::client::engine::Client;
use crate::client::error::{ClientError, ClientResult};
use crate::client::platform::{Clock, Store, Transport};
use crate::crypto;
use crate::files::FileUrl;
use crate::groups::control;
use crate::groups::info::Picture;
use crate::media::ImageKind;
use crate::rpc::AccountId;

/// Largest group picture, encrypted (one file part; Session Desktop scales avatars far below).
pub const PICTURE_MAX_BYTES: usize = 5_000_000;
/// How long before the file server would let it go a member extends the picture.
const EXTEND_BEFORE_MS: u64 = 3 * 24 * 3600 * 1000;

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// Sets the group's picture to `image` (a picture, its metadata already stripped) or, with
    /// `None`, removes it (admins only); members are told. Refused, with nothing uploaded or
    /// changed, when `image` is not a JPEG, PNG, GIF or WebP or is larger than
    /// [`PICTURE_MAX_BYTES`].
    pub async fn set_group_picture(
        &self,
        group_id: &AccountId,
        image: Option<&[u8]>,
    ) -> ClientResult<()> {
        if let Some(image) = image {
            if ImageKind::sniff(image).is_none() {
                return Err(ClientError::Group(
                    "a group picture must be a JPEG, PNG, GIF or WebP picture",
                ));
            }
            if image.len() + crypto::GCM_IV + crypto::TAG > PICTURE_MAX_BYTES {
                return Err(ClientError::FileTooLarge {
                    max: PICTURE_MAX_BYTES as u64,
                });
            }
        }
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let mut info = record.info();
        info.picture = match image {
            Some(image) => {
                let mut key = Zeroizing::new([0u8; 32]);
                self.rng.borrow_mut().fill_bytes(key.as_mut());
                let sealed = crypto::gcm_seal(&key, image, &mut *self.rng.borrow_mut());
                let (url, expires_ms) = self.upload_sealed(sealed).await?;
                record.picture_until_ms = expires_ms;
                Some(Picture {
                    url: url.to_url(),
                    key: *key,
                })
            }
            None => None,
        };
        self.push_info(&mut record, &group, &info).await?;
        let now = self.network_now_ms();
        let update = control::info_change(&group, control::INFO_AVATAR, None, None, now);
        self.announce(&record, &group, update, now).await?;
        self.put_record(record).await
    }

    /// The group's picture as its Info names it now (read from the group's swarm first),
    /// downloaded and decrypted; `None` when it has none. Fails when the file is gone, does
    /// not open with the key, or is not a picture once opened.
    pub async fn group_picture(&self, group_id: &AccountId) -> ClientResult<Option<Vec<u8>>> {
        let status = self.record(group_id).await?.status;
        if status == GroupStatus::Invited {
            // Nothing from a group is fetched before the invitation is accepted.
            return Err(ClientError::Group("accept the invitation first"));
        }
        if status == GroupStatus::Joined {
            self.refresh_group(group_id).await?;
        }
        let record = self.record(group_id).await?;
        let Some(picture) = record.info().picture else {
            return Ok(None);
        };
        let url = FileUrl::parse(&picture.url)?;
        let sealed = self.download_sealed(&url).await?;
        let image = crypto::gcm_open(&picture.key, &sealed)?;
        if ImageKind::sniff(&image).is_none() {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "the group picture is not a picture",
            )));
        }
        Ok(Some(image))
    }

    /// Extends the group's picture on the file server once it is within three days of its end
    /// (any member may: the file server asks nothing but the file's ID). Best effort: the next
    /// read tries again.
    pub(super) async fn keep_picture_alive(&self, record: &mut Record) {
        let Some(picture) = record.info().picture else {
            return;
        };
        let now = self.network_now_ms();
        if record.picture_until_ms > now + EXTEND_BEFORE_MS {
            return;
        }
        let Ok(url) = FileUrl::parse(&picture.url) else {
            return;
        };
        if let Ok(until) = self.extend_file(&url).await {
            record.picture_until_ms = until;
        }
    }
}
