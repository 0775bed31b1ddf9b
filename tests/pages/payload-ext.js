// An external script payload: runs in the live page, must never run (or load) in a replay.
(function(n){try{fetch('{{ORIGIN}}/pwned?'+n,{mode:'no-cors'})}catch(e){}try{new Image().src='{{ORIGIN}}/pwned?img-'+n}catch(e){}[window,parent,top].forEach(function(w){try{w.__pwned=(w.__pwned||[]).concat(n)}catch(e){}})})('script-src')
