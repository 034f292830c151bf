/**
 * Connects two peer connections of one process: their ICE candidates go straight to each other,
 * and `offerer`'s offer meets `answerer`'s answer. Create the offerer's data channels first.
 */
export async function negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  offerer.onicecandidate = (e) => void (e.candidate && answerer.addIceCandidate(e.candidate));
  answerer.onicecandidate = (e) => void (e.candidate && offerer.addIceCandidate(e.candidate));
  const offer = await offerer.createOffer();
  await offerer.setLocalDescription(offer);
  await answerer.setRemoteDescription(offer);
  const answer = await answerer.createAnswer();
  await answerer.setLocalDescription(answer);
  await offerer.setRemoteDescription(answer);
}
