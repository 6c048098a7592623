"""Slow-header (slowloris) clients against a running `push serve`: opens N connections that send
a request line and one header, then nothing, and prints how many are still open over time.

    ulimit -n 20000; python3 bench/intestazioni_lente.py PORTA 3000
"""
import asyncio, sys, time
N=int(sys.argv[2]); porta=int(sys.argv[1])
async def uno(aperte):
    try:
        r,w=await asyncio.open_connection('127.0.0.1',porta)
    except Exception as e:
        return
    w.write(b"GET / HTTP/1.1\r\nHost: x\r\n"); await w.drain()
    aperte.add(w)
    try:
        while True:
            d=await r.read(1024)
            if not d: break
    except Exception:
        pass
    aperte.discard(w)
async def main():
    aperte=set()
    t=[asyncio.create_task(uno(aperte)) for _ in range(N)]
    t0=time.time()
    for s in [2,5,9,12,15,20]:
        await asyncio.sleep(s-(time.time()-t0))
        print(f"{s:>3} s: {len(aperte)} connessioni ancora aperte", flush=True)
asyncio.run(main())
