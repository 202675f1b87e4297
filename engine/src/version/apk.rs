//! apk versions: not implemented yet; every input is reported as unparseable (never guessed).

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ApkVersion(());

impl ApkVersion {
    pub(crate) fn parse(_s: &str) -> Result<ApkVersion, String> {
        Err("this scheme is not supported yet".into())
    }
}
