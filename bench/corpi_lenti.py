"""Slow-body clients against a running `push serve`: opens N connections that send complete
headers of a public validator upload (`POST /documentazione/validatore`, multipart) and then one
byte of the body every 2 s, and prints over time how many are still open and how many were
answered 408.

    ulimit -n 20000; python3 bench/corpi_lenti.py PORTA 500
(start the server with PUSH_VALIDATORE_SIMULTANEI and PUSH_VALIDATORE_AL_MINUTO above N, so
that every connection reaches the body instead of a 503/429)
"""
import asyncio, sys, time
N=int(sys.argv[2]); porta=int(sys.argv[1])
TESTA=(b"POST /documentazione/validatore HTTP/1.1\r\nHost: x\r\n"
       b"Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n"
       b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na")
async def uno(aperte, stati):
    try:
        r,w=await asyncio.open_connection('127.0.0.1',porta)
    except Exception:
        return
    w.write(TESTA); await w.drain()
    aperte.add(w)
    async def goccia():
        try:
            while True:
                await asyncio.sleep(2); w.write(b"x"); await w.drain()
        except Exception:
            pass
    g=asyncio.create_task(goccia())
    ricevuto=b""
    try:
        while True:
            d=await r.read(4096)
            if not d: break
            ricevuto+=d
    except Exception:
        pass
    g.cancel()
    stati[ricevuto[9:12].decode(errors="replace") or "nessuna"]=stati.get(ricevuto[9:12].decode(errors="replace") or "nessuna",0)+1
    aperte.discard(w)
async def main():
    aperte=set(); stati={}
    t=[asyncio.create_task(uno(aperte, stati)) for _ in range(N)]
    t0=time.time()
    for s in [10,30,55,62,70]:
        await asyncio.sleep(s-(time.time()-t0))
        print(f"{s:>3} s: {len(aperte)} connessioni ancora aperte, risposte {stati}", flush=True)
asyncio.run(main())
