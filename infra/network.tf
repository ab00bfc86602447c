# Workers need outbound access only (the queue, the edge's control WebSocket, TURN), plus, in
# network_mode 'public', inbound WebRTC UDP on the worker's one port (rtc_udp_port; the port range
# when it is null): browsers and TURN relays send media straight to the task's public IP (Fargate
# maps it 1:1 to the task's interface).
# /healthz is checked from inside the container, so no TCP port is opened.
resource "aws_security_group" "worker" {
  name        = "${var.name}-media-worker"
  description = "Switchboard media workers: WebRTC UDP in (public mode only), anything out"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "webrtc_udp" {
  for_each = local.public ? toset(var.rtc_ingress_cidrs) : toset([])

  security_group_id = aws_security_group.worker.id
  description       = "WebRTC media (UDP ${local.rtc_from_port}-${local.rtc_to_port})"
  ip_protocol       = "udp"
  from_port         = local.rtc_from_port
  to_port           = local.rtc_to_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all_ipv4" {
  security_group_id = aws_security_group.worker.id
  description       = "Queue, edge, TURN and the handler's own APIs"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
