//! Reading a ZIP: its directory checked before the ZIP reader allocates for it, then each
//! `conversations.json` or `conversations-NNN.json` read in order, within what the archive may
//! unpack to.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::json::read_json;
use super::state::{ReadError, State};

/// The most files a ZIP may hold: the ZIP reader keeps about 200 bytes for each entry of the
/// archive's directory before anything is read (a million empty files took 250 MB). A ChatGPT
/// export holds its conversations and one file per image or attachment.
pub const MAX_ZIP_ENTRIES: u64 = 50_000;

/// Refuses an archive whose directory claims more than [`MAX_ZIP_ENTRIES`] files, before the
/// ZIP reader allocates for them. Every end-of-directory record in the file's last 64 KiB
/// counts (the reader may pick any of them), and one that defers to ZIP64 is refused: no real
/// export within `IMPORT_MAX_BYTES` needs it.
fn zip_directory_fits(file: &mut File) -> Result<(), ReadError> {
    use std::io::{Seek, SeekFrom};
    let unreadable = |e: std::io::Error| ReadError::NotAnExport(format!("not a readable ZIP: {e}"));
    let len = file.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(unreadable)?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.take(tail_len)
        .read_to_end(&mut tail)
        .map_err(unreadable)?;
    let too_many = || {
        ReadError::NotAnExport(format!(
            "The ZIP holds more than {MAX_ZIP_ENTRIES} files; an export from ChatGPT or Claude \
             holds far fewer. Import its conversations.json instead."
        ))
    };
    for at in 0..tail.len().saturating_sub(21) {
        if tail[at..at + 4] != [0x50, 0x4b, 0x05, 0x06] {
            continue;
        }
        let entries = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
        let directory =
            u32::from_le_bytes([tail[at + 12], tail[at + 13], tail[at + 14], tail[at + 15]]);
        if entries == u16::MAX || directory == u32::MAX || u64::from(entries) > MAX_ZIP_ENTRIES {
            return Err(too_many());
        }
    }
    Ok(())
}

pub(super) fn read_zip(
    path: &Path,
    max_unpacked: u64,
    state: &mut State<'_>,
) -> Result<(), ReadError> {
    let not_zip =
        |e: zip::result::ZipError| ReadError::NotAnExport(format!("not a readable ZIP: {e}"));
    let mut file = File::open(path).map_err(|e| ReadError::NotAnExport(e.to_string()))?;
    zip_directory_fits(&mut file)?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(not_zip)?;
    let mut names: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            let entry = archive.by_index_raw(i).ok()?;
            let name = entry.name().ok()?.into_owned();
            let base = name.rsplit('/').next().unwrap_or(&name);
            let wanted = base == "conversations.json"
                || (base.starts_with("conversations-") && base.ends_with(".json"));
            (wanted && entry.is_file()).then_some((name, i))
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(ReadError::NotAnExport(
            "The ZIP holds no conversations.json (or conversations-NNN.json).".to_owned(),
        ));
    }
    let budget = Rc::new(Cell::new(max_unpacked));
    let over = Rc::new(Cell::new(false));
    for (_, i) in names {
        let entry = archive.by_index(i).map_err(not_zip)?;
        let limited = Budgeted {
            inner: entry,
            left: Rc::clone(&budget),
            over: Rc::clone(&over),
        };
        read_json(
            BufReader::with_capacity(256 * 1024, limited),
            state,
            Some(&over),
        )
        .map_err(|e| {
            if over.get() {
                ReadError::Unpacked(max_unpacked)
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// A reader that fails once the shared budget of bytes is spent (a ZIP bomb stops here).
struct Budgeted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let left = self.left.get();
        if n as u64 > left {
            self.over.set(true);
            return Err(std::io::Error::other("unpacked size limit"));
        }
        self.left.set(left - n as u64);
        Ok(n)
    }
}
