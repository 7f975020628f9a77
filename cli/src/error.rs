//! The one error type of the CLI; `main` prints it on stderr and exits with [`Error::exit_code`].

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The command line is inconsistent (exit 2).
    Usage(String),
    /// A local file or directory could not be read or written.
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A key could not be generated, read or used.
    Key(String),
    /// The request did not get an HTTP answer (DNS, connection, TLS, timeout).
    Http { url: String, message: String },
    /// Maskinporten refused the grant: its `error`, `error_description` and what to do about it.
    Maskinporten {
        status: u16,
        error: String,
        description: String,
        fix: String,
    },
    /// The token exchange refused the Maskinporten token.
    Exchange {
        url: String,
        status: u16,
        body: String,
        fix: String,
    },
    /// No usable login for this service.
    NotLoggedIn(String),
    /// The Events API answered with an error status.
    Api {
        method: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    /// An answer that is not what the protocol promises.
    Protocol(String),
}

impl Error {
    /// 1 = local failure, 2 = usage, 3 = login or token refused, 4 = the API refused the request.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Maskinporten { .. } | Error::Exchange { .. } | Error::NotLoggedIn(_) => 3,
            Error::Api { .. } => 4,
            Error::Io { .. } | Error::Key(_) | Error::Http { .. } | Error::Protocol(_) => 1,
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) | Error::Key(message) | Error::Protocol(message) => {
                f.write_str(message)
            }
            Error::NotLoggedIn(message) => f.write_str(message),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Http { url, message } => write!(f, "no answer from {url}: {message}"),
            Error::Maskinporten {
                status,
                error,
                description,
                fix,
            } => {
                write!(f, "Maskinporten refused the grant ({status} {error}")?;
                if !description.is_empty() {
                    write!(f, ": {description}")?;
                }
                write!(f, ").\n{fix}")
            }
            Error::Exchange {
                url,
                status,
                body,
                fix,
            } => {
                write!(f, "the token exchange at {url} answered {status}")?;
                if !body.trim().is_empty() {
                    write!(f, ": {}", body.trim())?;
                }
                write!(f, ".\n{fix}")
            }
            Error::Api {
                method,
                url,
                status,
                body,
            } => {
                write!(f, "{method} {url} answered {status}")?;
                if !body.trim().is_empty() {
                    write!(f, ": {}", body.trim())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// An HTTP client error with its causes.
pub fn http_error(url: &str, err: &dyn std::error::Error) -> Error {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Http {
        url: url.to_owned(),
        message,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
