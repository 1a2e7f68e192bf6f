//! Files on the native platform: a file on disk as an upload's source (read where it lies,
//! never whole), a file on disk as a download's sink, and what the CLI sends of a picture
//! (its metadata stripped unless asked not to).

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use murmur_core::client::files::{FileSink, FileSource};
use murmur_core::media::{ImageKind, Stripped, strip_metadata};
use murmur_core::message::content::{content_type, file_name};

/// A file on disk, read in pieces.
#[derive(Debug)]
pub struct DiskFile {
    file: std::cell::RefCell<std::fs::File>,
    len: u64,
}

impl DiskFile {
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{} is not a file", path.display()));
        }
        Ok(Self {
            file: std::cell::RefCell::new(file),
            len: meta.len(),
        })
    }
}

impl FileSource for DiskFile {
    fn len(&self) -> u64 {
        self.len
    }

    async fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let mut file = self.file.borrow_mut();
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::with_capacity(len);
        std::io::Read::by_ref(&mut *file)
            .take(len as u64)
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        Ok(buf)
    }
}

/// A download's destination: written to `PATH.part`, renamed to `PATH` once whole, so a failed
/// download leaves nothing that looks complete.
#[derive(Debug)]
pub struct DiskSink {
    file: std::fs::File,
    part: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl DiskSink {
    pub fn create(path: &Path) -> Result<Self, String> {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = std::path::PathBuf::from(part);
        let file = std::fs::File::create(&part)
            .map_err(|e| format!("cannot write {}: {e}", part.display()))?;
        Ok(Self {
            file,
            part,
            path: path.to_path_buf(),
        })
    }

    /// Keeps the file under its name.
    pub fn finish(self) -> Result<(), String> {
        self.file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&self.part, &self.path).map_err(|e| e.to_string())
    }

    /// Removes what was written.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.part);
    }
}

impl FileSink for DiskSink {
    async fn write(&mut self, data: &[u8]) -> Result<(), String> {
        self.file.write_all(data).map_err(|e| e.to_string())
    }
}

/// A file about to be sent: its bytes when they were read (a picture, stripped), its name and
/// type.
#[derive(Debug)]
pub struct Outgoing {
    pub name: Option<String>,
    pub content_type: String,
    /// The stripped picture; `None`: send the file from disk as it is.
    pub bytes: Option<Vec<u8>>,
}

/// Pictures are sent without their metadata (location, device, author) unless `keep_metadata`.
pub fn prepare(path: &Path, keep_metadata: bool) -> Result<Outgoing, String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(file_name);
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let kind = ImageKind::sniff(&head[..n]);
    let content_type = match kind {
        Some(kind) => kind.content_type().to_string(),
        None => content_type(guess_type(name.as_deref())),
    };
    if keep_metadata || kind.is_none() {
        return Ok(Outgoing {
            name,
            content_type,
            bytes: None,
        });
    }
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match strip_metadata(&data).map_err(|e| format!("{}: {e}", path.display()))? {
        Stripped::Image { bytes, .. } => Ok(Outgoing {
            name,
            content_type,
            bytes: Some(bytes),
        }),
        Stripped::Unsupported => Ok(Outgoing {
            name,
            content_type,
            bytes: None,
        }),
    }
}

/// A type for a file by its name's extension (the common ones; anything else is bytes).
/// The picture at `path` with its metadata stripped, or why not (unreadable, or not a JPEG,
/// PNG, GIF or WebP picture).
pub fn read_picture(path: &Path) -> Result<Vec<u8>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match murmur_core::media::strip_metadata(&data) {
        Ok(murmur_core::media::Stripped::Image { bytes, .. }) => Ok(bytes),
        _ => Err(format!(
            "{} is not a picture (JPEG, PNG, GIF or WebP)",
            path.display()
        )),
    }
}

fn guess_type(name: Option<&str>) -> Option<&'static str> {
    let ext = name?.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => return None,
    })
}
