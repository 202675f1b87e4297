//! One module per subcommand: turn its args into an engine call and render the result.

pub(crate) mod image;
