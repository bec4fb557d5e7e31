//! `TCP_NODELAY` on the connections to PostgreSQL. sqlx 0.9.0 no longer
//! sets it (sqlx issue 4335, fixed after that release). Without it, a
//! statement larger than the socket's send buffer (a group of audit events,
//! a batch of a purge) leaves in two writes, and Nagle's algorithm holds the
//! second until PostgreSQL acknowledges the first, which PostgreSQL delays
//! by 40 ms while it waits for the rest of the statement.
//!
//! sqlx does not hand out its socket, so each new connection asks the
//! server for its client port, and this process's socket bound to that port
//! gets the option. A Unix-socket connection has no port and needs nothing.

use sea_orm::sqlx::{self, PgConnection};

/// Sets `TCP_NODELAY` on a new connection's socket.
pub async fn on_connect(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(conn)
        .await?;
    if let Some(port) = port.and_then(|port| u16::try_from(port).ok())
        && !set_on_local_port(port)
    {
        tracing::warn!(
            port,
            "no socket of this process has the database connection's port: \
             statements may wait for delayed acknowledgements"
        );
    }
    Ok(())
}

/// Sets `TCP_NODELAY` on every TCP socket of this process bound to local
/// `port`; whether there was one. Another socket on that port (to another
/// peer) getting it too does no harm.
#[cfg(target_os = "linux")]
fn set_on_local_port(port: u16) -> bool {
    sockets_on_local_port(port)
        .filter(|&fd| set_nodelay(fd))
        .count()
        > 0
}

/// This process's sockets bound to local `port`.
#[cfg(target_os = "linux")]
fn sockets_on_local_port(port: u16) -> impl Iterator<Item = libc::c_int> {
    std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(move |&fd| local_port(fd) == Some(port))
}

#[cfg(not(target_os = "linux"))]
fn set_on_local_port(_port: u16) -> bool {
    false
}

/// The local port of socket `fd`, if it is an IP socket.
#[cfg(target_os = "linux")]
fn local_port(fd: libc::c_int) -> Option<u16> {
    // SAFETY: all-zero bytes are a valid `sockaddr_storage`.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getsockname writes at most `len` bytes into `addr`, which is
    // large enough for any address; on an fd that is not a socket (or no
    // longer open) it fails and writes nothing.
    let done =
        unsafe { libc::getsockname(fd, (&raw mut addr).cast::<libc::sockaddr>(), &raw mut len) };
    if done != 0 {
        return None;
    }
    match libc::c_int::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says `addr` holds a `sockaddr_in`.
            let addr = unsafe { &*(&raw const addr).cast::<libc::sockaddr_in>() };
            Some(u16::from_be(addr.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says `addr` holds a `sockaddr_in6`.
            let addr = unsafe { &*(&raw const addr).cast::<libc::sockaddr_in6>() };
            Some(u16::from_be(addr.sin6_port))
        }
        _ => None,
    }
}

/// Turns Nagle's algorithm off on `fd`; false when it is not a TCP socket.
#[cfg(target_os = "linux")]
fn set_nodelay(fd: libc::c_int) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: the option value is a c_int of the given size; on a socket
    // that is not TCP the call fails and changes nothing.
    let done = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const on).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    done == 0
}

/// Whether Nagle's algorithm is off on the socket of this process bound to
/// local `port` (for tests).
#[cfg(target_os = "linux")]
pub fn is_set_on_local_port(port: u16) -> Option<bool> {
    sockets_on_local_port(port).find_map(|fd| {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the option value is a c_int of the given size.
        let done = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&raw mut value).cast::<libc::c_void>(),
                &raw mut len,
            )
        };
        (done == 0).then_some(value != 0)
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_socket_on_the_port_gets_nodelay_and_no_other_does() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let first = std::net::TcpStream::connect(address).unwrap();
        let second = std::net::TcpStream::connect(address).unwrap();
        let (first_port, second_port) = (
            first.local_addr().unwrap().port(),
            second.local_addr().unwrap().port(),
        );
        assert!(!first.nodelay().unwrap());
        assert_eq!(is_set_on_local_port(first_port), Some(false));

        assert!(set_on_local_port(first_port));
        assert!(first.nodelay().unwrap());
        assert_eq!(is_set_on_local_port(first_port), Some(true));
        assert!(!second.nodelay().unwrap(), "another socket was changed");
        assert_eq!(is_set_on_local_port(second_port), Some(false));
    }

    #[test]
    fn a_port_no_socket_has_is_reported() {
        // Bound and closed: nothing of this process has it now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(!set_on_local_port(port));
        assert_eq!(is_set_on_local_port(port), None);
    }
}
