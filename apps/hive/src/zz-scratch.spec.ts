import { Test } from '@nestjs/testing';
import { Module, Injectable, Controller, Get } from '@nestjs/common';
import { WebSocketGateway, SubscribeMessage, ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { io } from 'socket.io-client';
@Injectable() class A { x = 1; }
@Controller('api') class C { @Get('h') h() { return { ok: true }; } }
@WebSocketGateway({ namespace: '/device' }) class G {
  @SubscribeMessage('ping') ping(@MessageBody() b: unknown) { return { pong: b }; }
}
@Module({ providers: [A, G], controllers: [C] }) class M {}
it('boots', async () => {
  const m = await Test.createTestingModule({ imports: [M] }).compile();
  const app = m.createNestApplication();
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const r = await fetch(url + '/api/h');
  expect(await r.json()).toEqual({ ok: true });
  const s = io(url.replace('[::1]','127.0.0.1') + '/device', { transports: ['websocket'] });
  const ack = await s.timeout(2000).emitWithAck('ping', { a: 1 });
  expect(ack).toEqual({ pong: { a: 1 } });
  s.close();
  await app.close();
});
