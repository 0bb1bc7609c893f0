"""Builds the image tarballs the upstream e2e suite runs on skiff (docker-archive format, imported by the kubelet from
its air-gap directory): agnhost (the real one, built from k8s.io/kubernetes test/images/agnhost) with busybox and small
curl/dig/getent/nc stand-ins for alpine's tools, busybox, and nginx/httpd/kitten/nautilus as agnhost test-webserver on
port 80. Usage: images.py OUT (OUT holds agnhost, curl, dig, getent, nc; tarballs go to OUT/images)."""
import io, json, tarfile, hashlib, subprocess, sys, os
OUT=sys.argv[1]
os.makedirs(OUT+"/images", exist_ok=True)
AG=subprocess.run(["go","list","-m","-f","{{.Dir}}","k8s.io/kubernetes"],capture_output=True,text=True,cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()+"/test/images/agnhost"
# A busybox whose sh runs the tools in $PATH (Debian's dynamic "busybox"; busybox-static's sh prefers its own applets,
# so its nc would shadow the netcat the e2e suite expects). Its shared libraries go into the image too.
BUSYBOX=os.environ.get("BUSYBOX","/usr/bin/busybox")
applets=subprocess.run([BUSYBOX,"--list-full"],capture_output=True,text=True).stdout.split()
libs=[w for w in subprocess.run(["ldd",BUSYBOX],capture_output=True,text=True).stdout.split() if w.startswith("/")]
def addfile(t,path,data,mode=0o755):
    ti=tarfile.TarInfo(path.lstrip("/")); ti.size=len(data); ti.mode=mode; t.addfile(ti,io.BytesIO(data))
def adddir(t,path,mode=0o755):
    ti=tarfile.TarInfo(path.lstrip("/")); ti.type=tarfile.DIRTYPE; ti.mode=mode; t.addfile(ti)
def addlink(t,path,target):
    ti=tarfile.TarInfo(path.lstrip("/")); ti.type=tarfile.SYMTYPE; ti.linkname=target; t.addfile(ti)
def rd(p): return open(p,"rb").read()
passwd=b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n"
group=b"root:x:0:\nnogroup:x:65534:\nuser-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"
def base(t, agnhost):
    for d in ["/bin","/sbin","/usr","/usr/bin","/usr/sbin","/etc","/tmp","/uploads","/root","/home","/home/user-defined-in-image","/var","/var/run"]:
        adddir(t,d, 0o1777 if d=="/tmp" else 0o755)
    addfile(t,"/bin/busybox",rd(BUSYBOX))
    for l in libs:
        real=os.path.realpath(l)
        parent=os.path.dirname(l)
        parts=parent.strip("/").split("/")
        for i in range(1,len(parts)+1):
            adddir(t,"/"+"/".join(parts[:i]))
        addfile(t,l,rd(real))
    skip={"/usr/bin/curl","/usr/bin/dig","/usr/bin/getent","/usr/bin/nc","/bin/nc","/bin/busybox"} if agnhost else {"/bin/busybox"}
    done=set()
    for a in applets:
        p="/"+a.lstrip("/")
        for q in (p, "/bin/"+os.path.basename(p)):
            if q in skip or q in done: continue
            done.add(q); addlink(t,q,"/bin/busybox")
    addfile(t,"/etc/passwd",passwd,0o644); addfile(t,"/etc/group",group,0o644)
    addfile(t,"/etc/hosts",b"127.0.0.1 localhost\n",0o644)
    if agnhost:
        addfile(t,"/agnhost",rd(OUT+"/agnhost"))
        addlink(t,"/agnhost-2","agnhost")
        addfile(t,"/usr/bin/curl",rd(OUT+"/curl"))
        addfile(t,"/usr/bin/dig",rd(OUT+"/dig"))
        addfile(t,"/usr/bin/getent",rd(OUT+"/getent"))
        addfile(t,"/usr/bin/nc",rd(OUT+"/nc"))
        addfile(t,"/localhost.crt",rd(AG+"/porter/localhost.crt"),0o644)
        addfile(t,"/localhost.key",rd(AG+"/porter/localhost.key"),0o644)
def build(out, tags, agnhost, entry, cmd):
    lb=io.BytesIO()
    with tarfile.open(fileobj=lb,mode="w",format=tarfile.GNU_FORMAT) as t: base(t,agnhost)
    layer=lb.getvalue(); ld="sha256:"+hashlib.sha256(layer).hexdigest()
    cfg={"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":entry,"Cmd":cmd,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[ld]}}
    cb=json.dumps(cfg).encode(); ch=hashlib.sha256(cb).hexdigest()
    man=[{"Config":ch+".json","RepoTags":tags,"Layers":["layer.tar"]}]
    with tarfile.open(out,"w") as t:
        addfile(t,ch+".json",cb,0o644); addfile(t,"layer.tar",layer,0o644); addfile(t,"manifest.json",json.dumps(man).encode(),0o644)
build(OUT+"/images/agnhost.tar",["skiff.local/e2ex/agnhost:2.66.1","skiff.local/e2ex/agnhost:2.55","skiff.local/e2ex/glibc-dns-testing:2.1.1","skiff.local/e2ex/jessie-dnsutils:1.7"],True,["/agnhost"],["pause"])
build(OUT+"/images/busybox.tar",["skiff.local/e2ex/busybox:1.37.0-2","skiff.local/e2ex/busybox:1.36.1-1"],False,None,["sh"])
build(OUT+"/images/httpd.tar",["skiff.local/e2ex/httpd:2.4.38-4","skiff.local/e2ex/httpd:2.4.39-4","skiff.local/e2ex/nginx:1.27.0-2","skiff.local/e2ex/nginx:1.28.0-2","skiff.local/e2ex/kitten:1.8","skiff.local/e2ex/nautilus:1.8"],True,["/agnhost"],["test-webserver","--port","80"])
