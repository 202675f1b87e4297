//! One module per subcommand: turn its args into an engine call and render the result.

pub(crate) mod db;
pub(crate) mod evaluate;
pub(crate) mod explain;
pub(crate) mod github;
pub(crate) mod image;
pub(crate) mod policy;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod store;
pub(crate) mod watch;
