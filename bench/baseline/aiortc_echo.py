#!/usr/bin/python3
"""
Baseline WebRTC echo server on aiortc (Debian's python3-aiortc 1.4.0), the engine under FastRTC.

The benchmark runs the same WebRTC load against this server and against our media worker and
compares CPU per session. The echo does what our worker does for a two-way echo: aiortc decodes
the incoming Opus to PCM frames (RTCRtpReceiver's decoder thread), and the outgoing track hands
those frames to RTCRtpSender, which re-encodes them to Opus.

HTTP (127.0.0.1 only):
  POST   /offer           body application/sdp (complete, non-trickle offer with an audio m-line)
                          -> 201, application/sdp answer (ICE gathered), Location: /sessions/<id>
  GET    /sessions/<id>   -> 200 {"connectionState": ...} or 404
  DELETE /sessions/<id>   -> 204 (peer closed) or 404
  GET    /healthz         -> 200 {"status": "ok", "sessions": N}

Prints `aiortc-echo-ready <port>` on stdout once listening. SIGTERM/SIGINT close every peer and
exit 0. Run with /usr/bin/python3 (the Debian packages live in its dist-packages).
"""

import argparse
import asyncio
import json
import logging
import signal
import sys
import uuid
from typing import Dict, List, Set

import aioice.ice
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)

LOOPBACK = "127.0.0.1"
# A peer that has not connected this long after its answer is closed. (aiortc would give up on
# its own only when every connectivity check has failed: a STUN transaction retransmits for
# ~63 s. Once connected, aioice's consent checks close a vanished peer within ~30-40 s.)
CONNECT_TIMEOUT_S = 20
logger = logging.getLogger("aiortc-echo")


def loopback_host_addresses(use_ipv4: bool, use_ipv6: bool) -> List[str]:
    """
    aioice's get_host_addresses() lists every interface address except 127.0.0.1 and ::1; the
    tests and benchmarks here run on loopback only, so gather 127.0.0.1 and nothing else.
    (aioice.ice.Connection.gather_candidates() looks the function up in the module at call time.)
    """
    return [LOOPBACK] if use_ipv4 else []


aioice.ice.get_host_addresses = loopback_host_addresses


class EchoTrack(MediaStreamTrack):
    """
    An outgoing audio track that plays back the frames of an incoming one. The frames are the
    receiver's decoded PCM (48 kHz, s16 stereo, 20 ms, pts = the remote RTP timestamp); the
    sender encodes each one to Opus as it is returned, so sending is paced by arrival.
    """

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source

    async def recv(self):
        # Raises MediaStreamError once the source has ended, which stops the sender.
        return await self.source.recv()


class EchoServer:
    def __init__(self) -> None:
        self.peers: Dict[str, RTCPeerConnection] = {}
        self.watchdogs: Set[asyncio.Task] = set()

    async def close_peer(self, session_id: str) -> bool:
        pc = self.peers.pop(session_id, None)
        if pc is None:
            return False
        await pc.close()
        logger.info("session %s closed (%d open)", session_id, len(self.peers))
        return True

    async def connect_watchdog(self, session_id: str, pc: RTCPeerConnection) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT_S)
        if self.peers.get(session_id) is pc and pc.connectionState != "connected":
            logger.warning(
                "session %s: not connected after %d s (%s), closing",
                session_id,
                CONNECT_TIMEOUT_S,
                pc.connectionState,
            )
            await self.close_peer(session_id)

    async def close_all(self) -> None:
        for task in self.watchdogs:
            task.cancel()
        await asyncio.gather(
            *(self.close_peer(sid) for sid in list(self.peers)), return_exceptions=True
        )

    # --- HTTP handlers ---

    async def healthz(self, request: web.Request) -> web.Response:
        return json_response(200, {"status": "ok", "sessions": len(self.peers)})

    async def offer(self, request: web.Request) -> web.Response:
        if request.content_type != "application/sdp":
            return bad_request(
                f"expected Content-Type: application/sdp, got {request.content_type or 'none'}"
            )
        try:
            sdp = await request.text()
        except Exception as exc:  # undecodable body
            return bad_request(f"cannot read the offer: {exc}")
        problem = check_offer(sdp)
        if problem:
            return bad_request(problem)

        session_id = uuid.uuid4().hex
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.peers[session_id] = pc

        @pc.on("connectionstatechange")
        async def on_connectionstatechange() -> None:
            logger.info("session %s: connection %s", session_id, pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                await self.close_peer(session_id)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            logger.info("session %s: %s track received", session_id, track.kind)
            if track.kind == "audio":
                pc.addTrack(EchoTrack(track))

        @pc.on("datachannel")
        def on_datachannel(channel) -> None:
            @channel.on("message")
            def on_message(message) -> None:
                channel.send(message)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if not any(
                t.kind == "audio" and t.sender.track is not None for t in pc.getTransceivers()
            ):
                raise ValueError("the offer's audio m-line does not send audio to us")
            # aiortc gathers ICE candidates inside setLocalDescription: the answer is complete.
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.close_peer(session_id)
            logger.info("bad offer: %r", exc)
            return bad_request(f"cannot answer the offer: {type(exc).__name__}: {exc}")

        watchdog = asyncio.ensure_future(self.connect_watchdog(session_id, pc))
        self.watchdogs.add(watchdog)
        watchdog.add_done_callback(self.watchdogs.discard)
        logger.info("session %s answered (%d open)", session_id, len(self.peers))
        return web.Response(
            status=201,
            body=pc.localDescription.sdp.encode(),
            content_type="application/sdp",
            headers={"Location": f"/sessions/{session_id}"},
        )

    async def session_state(self, request: web.Request) -> web.Response:
        pc = self.peers.get(request.match_info["id"])
        if pc is None:
            return text_response(404, "no such session")
        return json_response(
            200,
            {
                "connectionState": pc.connectionState,
                "iceConnectionState": pc.iceConnectionState,
            },
        )

    async def delete_session(self, request: web.Request) -> web.Response:
        if await self.close_peer(request.match_info["id"]):
            return web.Response(status=204)
        return text_response(404, "no such session")


def check_offer(sdp: str) -> str:
    """A clear message for what aiortc would otherwise reject obscurely (or accept)."""
    if not sdp.strip():
        return "empty offer"
    if not sdp.lstrip().startswith("v=0"):
        return "not an SDP offer (it must start with v=0)"
    if "\nm=audio " not in sdp.replace("\r\n", "\n"):
        return "the offer has no audio m-line"
    return ""


def text_response(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")


def bad_request(message: str) -> web.Response:
    return text_response(400, message)


def json_response(status: int, body: object) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


async def serve(port: int, verbose: bool) -> int:
    server = EchoServer()
    app = web.Application()
    app.add_routes(
        [
            web.get("/healthz", server.healthz),
            web.post("/offer", server.offer),
            web.get("/sessions/{id}", server.session_state),
            web.delete("/sessions/{id}", server.delete_session),
        ]
    )
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access") if verbose else None)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, port)
    await site.start()
    bound = runner.addresses[0][1]

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    print(f"aiortc-echo-ready {bound}", flush=True)
    await stopping.wait()
    logger.info("shutting down: closing %d sessions", len(server.peers))
    await server.close_all()
    await runner.cleanup()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="aiortc WebRTC audio echo (benchmark baseline)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (aiortc, aioice, HTTP)")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    return asyncio.run(serve(args.port, args.verbose))


if __name__ == "__main__":
    sys.exit(main())
