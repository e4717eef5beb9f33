// The 4-bit (or 8-bit) codebook product at decoder-step shapes (5 rows = beam 5) on one thread,
// with ~24 MB of weights in rotation so they come from L3 as in a decoder step; prints giga-weights
// per second and GFLOP/s (compare with the FMA peak that benchmarks/machine_floor.sh prints). docs/PERFORMANCE.md,
// "Quantized models". Built and run by benchmarks/codebook_kernel.sh.
#include "hat_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int bits = argc>1? atoi(argv[1]):4;
  long shapes[][2]={{512,512},{2048,512},{512,2048},{32768,512},{1024,1024}};
  long M=5;
  for(int s=0;s<5;s++){
    long N=shapes[s][0],K=shapes[s][1];
    long ldw = bits==4? (K+31)/32*16 : (K+63)/64*64;
    long bytes=N*ldw; long copies = (24L<<20)/bytes; if(copies<1)copies=1;
    unsigned char*w=malloc(bytes*copies); for(long i=0;i<bytes*copies;i++) w[i]=rand()&255;
    float cb[256]; for(int i=0;i<256;i++) cb[i]=(rand()/(float)RAND_MAX-0.5f);
    unsigned char planes[1024]; hat_codebook_planes(cb,1,planes);
    float*a=malloc(M*K*4),*c=malloc(M*N*4); for(long i=0;i<M*K;i++)a[i]=rand()/(float)RAND_MAX;
    long reps = (long)(2e9/(double)(N*K*M*2))+copies; double best=1e9;
    for(int round=0;round<5;round++){
      double t0=now();
      for(long r=0;r<reps;r++) hat_codebook_gemm_nt(M,N,K,a,K,w+(r%copies)*bytes,ldw,bits,cb,planes,0,N,0,c,N);
      double t=(now()-t0)/reps; if(t<best)best=t;
    }
    printf("%dbit 5x%ldx%ld: %.1f Gw/s (%.0f GFLOP/s)  c0=%g\n",bits,N,K,N*K/best*1e-9,2.0*M*N*K/best*1e-9,c[0]);
    free(w);free(a);free(c);
  }
}
