//! Serves a router on a port we control: it can go down and come back on the
//! same port, and a handler can abort its own connection with a TCP reset.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tower::Service;

use crate::error::Error;

/// Put in every request's extensions: notifying it resets the connection.
#[derive(Debug, Clone)]
pub struct ConnKill(pub Arc<Notify>);

impl ConnKill {
    /// Resets the connection; the caller should then never answer.
    pub fn fire(&self) {
        self.0.notify_one();
    }
}

#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    router: Router,
    running: Mutex<Option<Running>>,
}

impl HttpServer {
    /// Binds `addr` (port 0 picks one) and starts serving.
    pub async fn start(addr: SocketAddr, router: Router) -> Result<Self, Error> {
        let listener = bind(addr)?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let server = HttpServer {
            addr,
            router,
            running: Mutex::new(None),
        };
        server.serve(listener);
        Ok(server)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_up(&self) -> bool {
        self.running.lock().expect("server lock").is_some()
    }

    fn serve(&self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, self.router.clone(), stopped));
        *self.running.lock().expect("server lock") = Some(Running { stop, task });
    }

    /// Closes the listener and every open connection: clients see refusals.
    pub async fn down(&self) {
        let running = self.running.lock().expect("server lock").take();
        if let Some(r) = running {
            let _ = r.stop.send(());
            let _ = r.task.await;
        }
    }

    /// Listens again on the same address.
    pub async fn up(&self) -> Result<(), Error> {
        if self.is_up() {
            return Ok(());
        }
        let listener = bind(self.addr)?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.get_mut().ok().and_then(Option::take) {
            // Aborting the accept task drops its JoinSet, which aborts the connections.
            r.task.abort();
        }
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let bind_err = |source| Error::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(bind_err)?;
    // Rebinding after `down` must work although closed connections sit in TIME_WAIT.
    socket.set_reuseaddr(true).map_err(bind_err)?;
    socket.bind(addr).map_err(bind_err)?;
    socket.listen(1024).map_err(bind_err)
}

async fn accept_loop(listener: TcpListener, router: Router, mut stopped: oneshot::Receiver<()>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) => {
                    // Usually EMFILE under load: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket lets us set SO_LINGER=0 at kill time, so the
    // close becomes a RST rather than an orderly FIN after a partial answer.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let Ok(handle) = std_stream.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let kill = Arc::new(Notify::new());
    let conn_kill = ConnKill(kill.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(conn_kill.clone());
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let killed = tokio::select! {
        res = &mut conn => {
            if let Err(e) = res {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            false
        }
        _ = kill.notified() => true,
    };
    if killed {
        let _ = socket2::SockRef::from(&handle).set_linger(Some(Duration::ZERO));
    }
}
